// Ingress benchmark: accepted jobs/s and latency of POST /jobs, side by side in one run with a
// bare Fastify route that only publishes to JetStream (with nats.js js.publish, and with the
// ingress's own coalescing publisher); then the cost of refusing at a full queue, against the
// floor of any HTTP refusal in Node.
// Goals (issue: foundation): ingress >= 0.9 x the js.publish route; rejections >= 2.5 x accepted.
//   node bench/ingress.bench.ts [--seconds 8] [--connections 100] [--rounds 3]
//
// Every run of a round is next to the others in time, so a ratio compares runs that saw the same
// machine: this VM's speed drifts by tens of percent over minutes. The accepting and the refusing
// ingresses each have their own nats-server (roomy, fast queue full, every queue full), so no
// queue has to be filled or emptied between runs.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/args.ts';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { provision } from '#platform/nats/provision.ts';
import { declareTopology } from '#platform/nats/topology.ts';
import { cliEntry } from '#platform/paths.ts';
import { loadConfig } from '#platform/config.ts';
import { startNatsServer, type NatsServerHandle } from '#devenv/nats-server.ts';
import { formatResult, load, type LoadResult } from './lib/http-load.ts';
import { cpuMs, freePort, startTarget, type Target } from './lib/processes.ts';

const args = benchArgs(import.meta.url, { seconds: { type: 'string' }, connections: { type: 'string' }, rounds: { type: 'string' } });
const seconds = args.whole('seconds', 8);
const connections = args.whole('connections', 100);
const rounds = args.whole('rounds', 3);
for (const [name, value] of [['--seconds', seconds], ['--connections', connections], ['--rounds', rounds]] as const) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number >= 1 (got ${String(value)})`);
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};
const round2 = (x: number) => Number(x.toFixed(2));
const body = JSON.stringify({ type: 'fast.echo', payload: { n: 1 } });

type Broker = { server: NatsServerHandle; nc: NatsConnection; jsm: JetStreamManager; url: string; limits: Record<string, string> };
async function broker(capacity: { fast: number; slow: number }): Promise<Broker> {
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url });
  const limits = { FAST_QUEUE_CAPACITY: String(capacity.fast), SLOW_QUEUE_CAPACITY: String(capacity.slow) };
  await provision(nc, declareTopology(loadConfig({ NATS_URL: server.url, ...limits })));
  return { server, nc, jsm: await jetstreamManager(nc), url: server.url, limits };
}
/** Publishes until the stream refuses: the queue at capacity, as the ingress will find it. */
async function fill(b: Broker, subject: string): Promise<void> {
  const js = jetstream(b.nc);
  for (;;) {
    try { await js.publish(subject, '{}'); } catch { return; }
  }
}

const big = 10_000_000;
const [roomy, fastFull, allFull] = [await broker({ fast: big, slow: big }), await broker({ fast: 50, slow: big }), await broker({ fast: 50, slow: 50 })];
await fill(fastFull, 'jobs.fast.echo');
await fill(allFull, 'jobs.fast.echo');
await fill(allFull, 'jobs.slow.report');

const env = (b: Broker) => ({ NATS_URL: b.url, RATE_LIMIT_RPS: '1000000', QUEUE_POLL_MS: '100', ...b.limits });
const ingressArgs = [cliEntry, 'run', 'ingress'];
const script = (name: string) => fileURLToPath(new URL(`./targets/${name}`, import.meta.url));
async function target(args: string[], b: Broker): Promise<Target> {
  const port = await freePort();
  return startTarget(args, { ...env(b), HTTP_PORT: String(port) }, `http://127.0.0.1:${port}/readyz`);
}
const targets = {
  bare: await target([script('bare-publish.ts')], roomy),
  lean: await target([script('bare-publish.ts'), '--coalescing'], roomy),
  ingress: await target(ingressArgs, roomy),
  fastFull: await target(ingressArgs, fastFull),
  allFull: await target(ingressArgs, allFull),
  floorFastify: await target([script('refusal-floor.ts'), '--fastify'], roomy),
  floorRaw: await target([script('refusal-floor.ts')], roomy),
};
type Name = keyof typeof targets;
const labels: Record<Name, string> = {
  bare: 'bare route, js.publish',
  lean: 'bare route, coalescing publisher',
  ingress: 'ingress POST /jobs',
  fastFull: 'rejected: fast queue full',
  allFull: 'rejected: every queue full',
  floorFastify: 'floor: Fastify route, constant 503',
  floorRaw: 'floor: node:http, constant 503',
};
const names = Object.keys(targets) as Name[];

/** Until the refusing ingresses report the queues they were given as full. */
async function untilSeen(t: Target, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!pattern.test(await (await fetch(`${t.url}/metrics`)).text())) {
    if (Date.now() > deadline) throw new Error(`the ingress at ${t.url} never reported ${pattern}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
await untilSeen(targets.fastFull, /tps_queue_depth\{pool="fast"\} 50\n/);
await untilSeen(targets.allFull, /tps_queue_depth\{pool="slow"\} 50\n/);

/** Waits for answers still in flight when the load stopped, then empties the roomy streams. */
async function purge(): Promise<void> {
  let last = -1;
  for (;;) {
    const now = (await roomy.jsm.streams.info('JOBS_FAST')).state.messages;
    if (now === last) break;
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await roomy.jsm.streams.purge('JOBS_FAST');
  await roomy.jsm.streams.purge('KV_tps_jobs');
}

console.log(`ingress benchmark: ${connections} connections, ${seconds} s per run, ${rounds} rounds, Node ${process.version}`);
const run = (name: Name, label: string, secs = seconds) => {
  const t = targets[name];
  return load(label, { url: `${t.url}/jobs`, body, connections, seconds: secs, cpu: () => cpuMs(t.pid) });
};
for (const name of names) console.log(formatResult(await run(name, `warm-up ${labels[name]}`, Math.min(seconds, 3))));
await purge();

const runs = Object.fromEntries(names.map((n) => [n, [] as LoadResult[]])) as Record<Name, LoadResult[]>;
for (let i = 0; i < rounds; i++) {
  for (const name of names) {
    const result = await run(name, `${labels[name]} (${i + 1})`);
    runs[name].push(result);
    console.log(formatResult(result));
    if (name === 'ingress' || name === 'lean' || name === 'bare') await purge();
  }
}

// Each wrong answer would make a refusal figure meaningless: every refusal run must be all 503s.
for (const name of ['fastFull', 'allFull', 'floorFastify', 'floorRaw'] as const) {
  for (const r of runs[name]) {
    const non503 = Object.entries(r.statusCounts).filter(([code]) => code !== '503');
    if (non503.length || r.errors) throw new Error(`${r.label}: expected only 503 answers, got ${JSON.stringify(r.statusCounts)} and ${r.errors} socket errors`);
  }
}
for (const name of ['bare', 'lean', 'ingress'] as const) {
  for (const r of runs[name]) {
    const non202 = Object.entries(r.statusCounts).filter(([code]) => code !== '202');
    if (non202.length || r.errors) throw new Error(`${r.label}: expected only 202 answers, got ${JSON.stringify(r.statusCounts)} and ${r.errors} socket errors`);
  }
}

const summaryOf = (name: Name) => ({
  rps: Math.round(median(runs[name].map((r) => r.rps))),
  p50Ms: round2(median(runs[name].map((r) => r.p50Ms))),
  p99Ms: round2(median(runs[name].map((r) => r.p99Ms))),
  cpuUsPerRequest: Math.round(median(runs[name].map((r) => r.cpuUsPerRequest ?? 0))),
});
/** The ratio of two targets' rates within each round (next to each other in time), and its median. */
const ratio = (a: Name, b: Name) => {
  const perRound = runs[a].map((r, i) => round2(r.rps / (runs[b][i]?.rps ?? Number.NaN)));
  return { median: round2(median(perRound)), perRound };
};
const cpuRatio = (a: Name, b: Name) => round2(summaryOf(b).cpuUsPerRequest / summaryOf(a).cpuUsPerRequest);

const summary = {
  date: new Date().toISOString(),
  node: process.version,
  connections,
  seconds,
  rounds,
  targets: Object.fromEntries(names.map((n) => [n, { label: labels[n], ...summaryOf(n) }])),
  ingressToBaseline: ratio('ingress', 'bare'),
  ingressToCoalescingBaseline: ratio('ingress', 'lean'),
  rejectFastFullToAccepted: ratio('fastFull', 'ingress'),
  rejectAllFullToAccepted: ratio('allFull', 'ingress'),
  floorFastifyToAccepted: ratio('floorFastify', 'ingress'),
  floorRawToAccepted: ratio('floorRaw', 'ingress'),
  allFullToFloorRaw: ratio('allFull', 'floorRaw'),
  fastFullToFloorRaw: ratio('fastFull', 'floorRaw'),
  cpuCheaperBy: { fastFull: cpuRatio('fastFull', 'ingress'), allFull: cpuRatio('allFull', 'ingress'), floorRaw: cpuRatio('floorRaw', 'ingress') },
  runs: names.flatMap((n) => runs[n]),
};
const fmt = (r: { median: number; perRound: number[] }) => `${r.median} (rounds: ${r.perRound.join(', ')})`;
console.log('');
console.log('medians over the rounds:');
for (const n of names) {
  const s = summaryOf(n);
  console.log(`  ${labels[n].padEnd(36)} ${String(s.rps).padStart(7)} req/s   p50 ${s.p50Ms.toFixed(1).padStart(6)} ms   p99 ${s.p99Ms.toFixed(1).padStart(6)} ms   cpu ${String(s.cpuUsPerRequest).padStart(3)} µs/req`);
}
console.log(`ingress / bare js.publish route: ${fmt(summary.ingressToBaseline)} (goal >= 0.9)`);
console.log(`ingress / bare route with the same publisher: ${fmt(summary.ingressToCoalescingBaseline)} (the ingress's own overhead)`);
console.log(`rejections / accepted, by rate: fast queue full ${fmt(summary.rejectFastFullToAccepted)}; every queue full ${fmt(summary.rejectAllFullToAccepted)} (goal >= 2.5)`);
console.log(`floors / accepted, by rate: node:http ${fmt(summary.floorRawToAccepted)}; Fastify ${fmt(summary.floorFastifyToAccepted)}`);
console.log(`refusals / the node:http floor, by rate: every queue full ${fmt(summary.allFullToFloorRaw)}; fast queue full ${fmt(summary.fastFullToFloorRaw)}`);
console.log(`ingress CPU per accepted / per refused request: fast queue full ${summary.cpuCheaperBy.fastFull}x, every queue full ${summary.cpuCheaperBy.allFull}x, node:http floor ${summary.cpuCheaperBy.floorRaw}x`);
const out = fileURLToPath(new URL('./results/ingress-latest.json', import.meta.url));
writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
console.log(`written to ${out}`);

for (const t of Object.values(targets)) await t.stop();
for (const b of [roomy, fastFull, allFull]) {
  await b.nc.close();
  await b.server.dispose();
}
