// Autoscaler reaction times with the default (lab) policy, on the whole pipeline:
//   step:       a step of slow.report load; how long until the slow pool's slots rise, until the
//               backlog is gone, and after the load stops, until they fall and are back at the minimum.
//   bottleneck: more slow load than service-c can take (CHAIN_CONCURRENCY=16, ~0.3 s each: ~50 jobs/s);
//               how many steps until the autoscaler says more slots do not help, and where it holds.
//   node bench/autoscaler.bench.ts [--scenario step|bottleneck] [--rate 40] [--seconds 60]
import { writeFileSync } from 'node:fs';
import { benchArgs } from './lib/args.ts';
import { startNatsServer } from '#devenv/nats-server.ts';
import { postJob } from '#devenv/roles.ts';
import { metricValue, startStack, type Stack } from '#devenv/stack.ts';

const args = benchArgs(import.meta.url, { scenario: { type: 'string' }, rate: { type: 'string' }, seconds: { type: 'string' } });
const scenario = args.oneOf('scenario', ['step', 'bottleneck'] as const);
const rate = args.whole('rate', scenario === 'step' ? 40 : 120);
const seconds = args.whole('seconds', scenario === 'step' ? 60 : 90);

const nats = await startNatsServer();
// The bottleneck needs a downstream that takes fewer jobs at once than the workers can send:
// every hop limited to 16 at once (service-c's ~0.3 s per job then caps the pool near 50 jobs/s).
const stack: Stack = await startStack(nats.url, { LOG_LEVEL: 'warn', ...(scenario === 'bottleneck' ? { CHAIN_CONCURRENCY: '16' } : {}) });
const t0 = Date.now();
const at = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s`;
const slots = () => metricValue(stack.url('worker-slow'), /^tps_worker_slots\{pool="slow"\}/).catch(() => -1);
const done = () => metricValue(stack.url('worker-slow'), /^tps_jobs_processed_total\{.*pool="slow".*outcome="success"/).catch(() => 0);
const bottleneck = () => metricValue(stack.url('autoscaler'), /^tps_autoscaler_bottleneck\{pool="slow"\}/).catch(() => 0);
const lag = () => metricValue(stack.url('worker-slow'), /^tps_queue_(pending|inflight)\{pool="slow"\}/).catch(() => 0);

type Sample = { t: number; slots: number; lag: number; perSecond: number; bottleneck: number };
const samples: Sample[] = [];
let lastDone = await done();
let lastAt = Date.now();
const sampler = setInterval(() => void (async () => {
  const d = await done();
  const now = Date.now();
  const s: Sample = { t: (now - t0) / 1000, slots: await slots(), lag: await lag(), perSecond: (d - lastDone) / ((now - lastAt) / 1000), bottleneck: await bottleneck() };
  lastDone = d;
  lastAt = now;
  samples.push(s);
  console.log(`${at()}  slots ${String(s.slots).padStart(3)}  lag ${String(s.lag).padStart(4)}  ${s.perSecond.toFixed(1).padStart(5)} jobs/s${s.bottleneck ? '  BOTTLENECK' : ''}`);
})(), 1_000);

const initial = await slots();
console.log(`${at()}  ${scenario}: ${rate} slow.report jobs/s for ${seconds} s (slow slots start at ${initial})`);
const stepAt = Date.now();
let refused = 0;
const load = setInterval(() => {
  void postJob(stack.url('ingress'), { type: 'slow.report' }).then((r) => { if (r.status !== 202) refused += 1; }, () => { refused += 1; });
}, 1_000 / rate);
let raisedMs: number | undefined;
let bottleneckMs: number | undefined;
while (Date.now() - stepAt < seconds * 1_000) {
  await new Promise((resolve) => setTimeout(resolve, 250));
  if (raisedMs === undefined && (await slots()) > initial) raisedMs = Date.now() - stepAt;
  if (bottleneckMs === undefined && (await bottleneck()) === 1) bottleneckMs = Date.now() - stepAt;
}
clearInterval(load);
const stopAt = Date.now();
const peak = Math.max(...samples.map((s) => s.slots));
let loweredMs: number | undefined;
let minimumMs: number | undefined;
if (scenario === 'step') {
  while (Date.now() - stopAt < 180_000 && minimumMs === undefined) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = await slots();
    if (loweredMs === undefined && now < peak) loweredMs = Date.now() - stopAt;
    if (now === initial) minimumMs = Date.now() - stopAt;
  }
}
clearInterval(sampler);
const secondsOf = (ms: number | undefined) => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`);
const summary = scenario === 'step'
  ? { scenario, rate, seconds, initial, peak, refused, raised: secondsOf(raisedMs), lowered: secondsOf(loweredMs), backAtMinimum: secondsOf(minimumMs) }
  : { scenario, rate, seconds, initial, peak, refused, bottleneckDetected: secondsOf(bottleneckMs), heldAt: samples.at(-1)?.slots };
console.log(JSON.stringify(summary));
writeFileSync(new URL(`./results/autoscaler-${scenario}.json`, import.meta.url), JSON.stringify({ ...summary, samples }, null, 2));
await stack.stop();
await nats.dispose();
