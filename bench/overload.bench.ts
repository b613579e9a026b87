// Overload, open-loop (reliability matrix O1 and O2): the whole pipeline on slow.report jobs
// (ingress -> JOBS_SLOW -> worker-slow -> service-a -> service-b -> service-c) as `make up` runs
// it, but for the autoscaler: off, the slow pool's slots held at 32 (--slots), so the capacity holds
// still while it is measured and overloaded (with the autoscaler on it grows under load, and twice
// the capacity at the start is not twice the capacity at the end). First its capacity: the rate at which a closed loop of users (each posting
// a job and waiting for it to end) gets jobs completed, the queue never running dry. Then arrivals
// on schedule whatever the answers (open model): half the capacity (the baseline), twice it (O1)
// and ten times it (O2), each overload followed by half of it again while the queue drains.
// Checked as same-run ratios and the matrix's bounds: goodput (jobs completed a second while
// overloaded) at least 0.95 (2x) and 0.9 (10x) of the capacity; refusals answered within 50 ms
// (p99); accepted jobs inside the pool's SLO (p99); the roles' memory at 10x at most 1.5x what it
// was at 2x; the queue back to its baseline depth within 30 s of the overload's end; every
// accepted job completed or dead-lettered. Exit status 1 if one does not hold.
//   node bench/overload.bench.ts [--seconds 30] [--capacity-seconds 20] [--warmup-seconds 10] [--users 150] [--slots 32] [--queue 200]
import { writeFileSync, mkdirSync } from 'node:fs';
import { jetstreamManager } from '@nats-io/jetstream';
import { startNatsServer } from '#devenv/nats-server.ts';
import { startStack } from '#devenv/stack.ts';
import { poolDefinitions } from '#platform/pools.ts';
import { benchArgs } from './lib/args.ts';
import { closedLoop, drainedTo, endToEnd, jobType, openJobs, openLoop, queueDepth, sampleMemory } from './lib/overload.ts';

const args = benchArgs(import.meta.url, {
  seconds: { type: 'string' }, 'capacity-seconds': { type: 'string' }, 'warmup-seconds': { type: 'string' }, users: { type: 'string' }, slots: { type: 'string' }, queue: { type: 'string' },
});
const seconds = args.whole('seconds', 30, 5);
const capacitySeconds = args.whole('capacity-seconds', 20, 5);
const warmupSeconds = args.whole('warmup-seconds', 10, 0);
const users = args.whole('users', 150);
const slots = args.whole('slots', 32);
// The slow queue's bound (SLOW_QUEUE_CAPACITY): what keeps an accepted job's wait, and memory, bounded.
const queueCapacity = args.whole('queue', poolDefinitions.slow.queueCapacity);
const sloMs = poolDefinitions.slow.latencySloSeconds * 1000;
const recoveryGoalMs = 30_000;

const nats = await startNatsServer();
const stack = await startStack(nats.url, { LOG_LEVEL: 'warn', AUTOSCALER_ENABLED: 'false', WORKER_SLOTS: String(slots), SLOW_QUEUE_CAPACITY: String(queueCapacity) });
const jsm = await jetstreamManager(stack.nc);
const jobs = openJobs(stack);
const pids = (): Record<string, number> => {
  const roles = stack.supervisor.processNames().flatMap((name) => { const pid = stack.supervisor.pidOf(name); return pid && name !== 'nats' ? [[name, pid] as const] : []; });
  return Object.fromEntries(roles);
};
const sum = (mb: Record<string, number>) => Object.values(mb).reduce((a, b) => a + b, 0);
const per = (n: number, ms: number) => Math.round((n / ms) * 100_000) / 100;

/** The completion rate of a closed loop of `users`, after `warmupSeconds`. */
async function capacity(): Promise<number> {
  const t0 = performance.now();
  const [from, to] = [t0 + warmupSeconds * 1000, t0 + (warmupSeconds + capacitySeconds) * 1000];
  await closedLoop(jobs, users, to);
  const rate = per(jobs.endedBetween(from, to).filter((e) => e.state === 'completed').length, to - from);
  console.log(`capacity: ${rate} ${jobType} jobs/s completed by ${users} users in a closed loop (${slots} slots, a queue of ${queueCapacity}, ${capacitySeconds} s after ${warmupSeconds} s of warm-up)`);
  return rate;
}

/** The queue's largest depth while `work` runs (read every 250 ms). */
async function deepestDuring<T>(work: Promise<T>): Promise<{ result: T; depth: number }> {
  let [depth, running] = [0, true];
  const watch = (async () => { while (running) { depth = Math.max(depth, await queueDepth(jsm)); await new Promise((r) => setTimeout(r, 250)); } })();
  const result = await work.finally(() => { running = false; });
  await watch;
  return { result, depth };
}

async function offered(name: string, rate: number, capacityRate: number) {
  const memory = sampleMemory(pids);
  const from = performance.now();
  const load = await openLoop(jobs, rate, seconds);
  const to = performance.now();
  const peakRssMb = memory.stop();
  const goodput = per(jobs.endedBetween(from, to).filter((e) => e.state === 'completed').length, to - from);
  const { accepted, ...answers } = load;
  console.log(`${name.padEnd(9)} offered ${answers.offeredPerSecond}/s: accepted ${answers.acceptedPerSecond}/s, shed ${answers.shedPerSecond}/s (${JSON.stringify(answers.statuses)}), shed answered p99 ${answers.shedAnswer.p99Ms} ms; goodput ${goodput} jobs/s = ${(goodput / capacityRate).toFixed(3)} of capacity; roles' peak RSS ${sum(peakRssMb)} MB`);
  return { name, rate, ...answers, goodputPerSecond: goodput, goodputOverCapacity: Math.round((goodput / capacityRate) * 1000) / 1000, peakRssMb, accepted };
}

/** Half the capacity again right after an overload: how long until the queue is back to `depth`. */
async function recovery(after: string, rate: number, depth: number) {
  const recoverySeconds = Math.max(seconds, recoveryGoalMs / 1000);
  const [drainedMs, load] = await Promise.all([drainedTo(jsm, depth, recoverySeconds * 1000), openLoop(jobs, rate, recoverySeconds)]);
  console.log(`after ${after}: the queue back to its baseline depth (${depth}) ${drainedMs === undefined ? `not within ${recoverySeconds} s` : `in ${(drainedMs / 1000).toFixed(1)} s`}`);
  return { drainedMs: drainedMs ?? null, accepted: load.accepted };
}

const result = await (async () => {
  try {
    const capacityRate = await capacity();
    if (!(await drainedTo(jsm, 0, 120_000) !== undefined)) throw new Error('the queue did not drain after the capacity run');
    const half = Math.max(1, Math.round(capacityRate / 2));
    const baseline = await deepestDuring(offered('baseline', half, capacityRate));
    const depth = Math.max(2, baseline.depth);
    const twice = await offered('2x', Math.round(capacityRate * 2), capacityRate);
    const afterTwice = await recovery('2x', half, depth);
    const tenfold = await offered('10x', Math.round(capacityRate * 10), capacityRate);
    const afterTenfold = await recovery('10x', half, depth);
    const all = [baseline.result, twice, afterTwice, tenfold, afterTenfold].flatMap((p) => p.accepted);
    await drainedTo(jsm, 0, 120_000);
    const lost = endToEnd(jobs, all).notEnded;
    const e2e = Object.fromEntries([baseline.result, twice, tenfold].map((p) => [p.name, endToEnd(jobs, p.accepted)]));
    const strip = <T extends { accepted: string[] }>({ accepted, ...rest }: T) => ({ ...rest, acceptedJobs: accepted.length });
    return {
      jobType, slots, queueCapacity, capacityPerSecond: capacityRate, baselineDepth: depth, sloMs,
      phases: [baseline.result, twice, tenfold].map((p) => ({ ...strip(p), endToEnd: e2e[p.name] })),
      recoveryMs: { '2x': afterTwice.drainedMs, '10x': afterTenfold.drainedMs },
      memoryAt10xOver2x: Math.round((sum(tenfold.peakRssMb) / Math.max(1, sum(twice.peakRssMb))) * 1000) / 1000,
      acceptedJobs: all.length, lost,
    };
  } finally {
    await jobs.close();
    await stack.stop();
    await nats.dispose();
  }
})();

const [, twice, tenfold] = result.phases as [unknown, (typeof result.phases)[number], (typeof result.phases)[number]];
const checks: Array<[string, boolean, string]> = [
  ['O1 goodput at 2x >= 0.95 of capacity', twice.goodputOverCapacity >= 0.95, String(twice.goodputOverCapacity)],
  ['O1 refusals answered within 50 ms (p99) at 2x', twice.shedAnswer.p99Ms <= 50, `${twice.shedAnswer.p99Ms} ms`],
  [`O1 accepted jobs within the SLO (${sloMs / 1000} s, p99) at 2x`, (twice.endToEnd?.p99Ms ?? Infinity) <= sloMs, `${twice.endToEnd?.p99Ms} ms`],
  ['O2 goodput at 10x >= 0.9 of capacity', tenfold.goodputOverCapacity >= 0.9, String(tenfold.goodputOverCapacity)],
  ['O2 roles\' memory at 10x <= 1.5x that at 2x', result.memoryAt10xOver2x <= 1.5, String(result.memoryAt10xOver2x)],
  ['O2 queue back to baseline within 30 s of each overload', Object.values(result.recoveryMs).every((ms) => ms !== null && ms <= recoveryGoalMs), JSON.stringify(result.recoveryMs)],
  ['every accepted job completed or dead-lettered', result.lost === 0, `${result.lost} of ${result.acceptedJobs} did not end`],
];
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/overload-latest.json', import.meta.url), `${JSON.stringify({ ...result, checks: checks.map(([what, holds, seen]) => ({ what, holds, seen })) }, null, 2)}\n`);
console.log('');
for (const [what, holds, seen] of checks) console.log(`${holds ? 'holds ' : 'FAILS '} ${what}: ${seen}`);
if (checks.some(([, holds]) => !holds)) process.exitCode = 1;
