// Pipeline benchmark: sustained jobs/s end to end (202 to completed) and end-to-end latency for the
// fast pool with no-op work, side by side in one run with (a) the raw JetStream
// publish + consume + ack rate with the same client, (b) a BullMQ queue + worker doing the same
// no-op work on a local Redis, and (d) the same pipeline built on BullMQ (a Fastify ingress doing
// Queue.add, a BullMQ Worker calling the same service-a through opossum: what a team would pick
// instead), and (e) the floor pipeline (the least a pipeline of our shape on NATS can do per job:
// a bare publish route, a worker that calls the same service-a and acks, nothing else), then the
// latency at a steady 500 jobs/s (the handbook's lab rate; goal: p99 end to end under 100 ms on
// this 2-core machine).
// With --tracing it compares instead the pipeline with tracing off, on (every role exporting
// OTLP/HTTP to a local sink that discards the spans) and on with 10 % sampling, alternating
// `--rounds` times in one run, each round starting one variant later (bench/lib/tracing-overhead.ts).
// Ours, the BullMQ pipeline and the floor run `--rounds` times, in turn, in one order in odd rounds
// and the reverse in even ones, so of any two each goes first in every other round (this VM's
// speed drifts by tens of percent within minutes): a ratio is the median of the rounds' ratios,
// the rates and CPU the medians of the rounds.
//   node bench/pipeline.bench.ts [--jobs 20000] [--concurrency 200] [--rate 500] [--seconds 20] [--rounds 4]
//   node bench/pipeline.bench.ts --tracing [--rounds 4]
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { createJetStreamPublisher } from '#platform/nats/jetstream-publisher.ts';
import { Queue } from 'bullmq';
import { provision } from '#platform/nats/provision.ts';
import { declareTopology } from '#platform/nats/topology.ts';
import { loadConfig } from '#platform/config.ts';
import { startNatsServer } from '#devenv/nats-server.ts';
import { startStack } from '#devenv/stack.ts';
import { closedLoop, openPipelineLoad, type PipelineOptions, type PipelineResult } from './lib/pipeline-run.ts';
import { runForResult } from './lib/processes.ts';
import { startRedis } from './lib/redis.ts';
import { openBullPipeline } from './lib/bullmq-pipeline.ts';
import { openFloorPipeline } from './lib/floor-pipeline.ts';
import type { SideResult } from './lib/peer-side.ts';
import { median } from './lib/stats.ts';
import { benchArgs } from './lib/args.ts';
import type { LatencySummary } from './lib/stats.ts';

const args = benchArgs(import.meta.url, {
  jobs: { type: 'string' }, concurrency: { type: 'string' }, rate: { type: 'string' }, seconds: { type: 'string' },
  tracing: { type: 'boolean', default: false }, rounds: { type: 'string' },
});
const { values } = args;
const jobs = args.whole('jobs', 20_000);
const concurrency = args.whole('concurrency', 200);
const steadyRate = args.whole('rate', 500);
const steadySeconds = args.whole('seconds', 20);
// Even, and four for the tracing variants: each side (each variant) first as often as not.
const rounds = args.whole('rounds', 4);
type Result = { rate: number } & LatencySummary;
const env = { FAST_QUEUE_CAPACITY: '1000000', SLOW_QUEUE_CAPACITY: '1000' };
const stackEnv = { ...env, WORK_SCALE: '0', WORKER_SLOTS: '64', RATE_LIMIT_RPS: '0', LOG_LEVEL: 'warn', OTEL_SDK_DISABLED: 'true' };
if (values.tracing) {
  // Each run on a nats-server of its own (bench/lib/tracing-overhead.ts).
  await (await import('./lib/tracing-overhead.ts')).compareTracing(stackEnv, { jobs, concurrency, steadyRate, steadySeconds }, rounds);
  process.exit(0);
}
const nats = await startNatsServer();
const options: PipelineOptions = { jobs, concurrency, steadyRate, steadySeconds, ...(nats.pid ? { brokerPid: nats.pid } : {}) };
const natsConfig = loadConfig({ NATS_URL: nats.url, ...env });

// (a) Raw JetStream: publish (the ingress's coalescing publisher), consume and ack in another process.
const { connect } = await import('@nats-io/transport-node');
const nc = await connect({ servers: nats.url, noAsyncTraces: true });
await provision(nc, declareTopology(natsConfig));
const rawRun = runForResult<Result>([fileURLToPath(new URL('./targets/raw-consumer.ts', import.meta.url)), String(jobs), nats.url]);
const publisher = createJetStreamPublisher(nc, { timeoutMs: 5_000 });
await closedLoop(jobs, 256, () => publisher.publish('jobs.fast.echo', Buffer.from(String(Date.now())), {}));
publisher.close();
const raw = await rawRun.result;
console.log(`raw JetStream publish+consume+ack   ${raw.rate} msg/s   p50 ${raw.p50Ms} ms   p99 ${raw.p99Ms} ms`);
await (await jetstreamManager(nc)).streams.purge('JOBS_FAST');

// (b) BullMQ on its own redis-server.
const redis = await startRedis();
const bullRun = runForResult<Result>([fileURLToPath(new URL('./targets/bullmq-worker.ts', import.meta.url)), String(jobs), String(redis.port)]);
const queue = new Queue('bench', { connection: { host: '127.0.0.1', port: redis.port } });
await closedLoop(jobs, 256, () => queue.add('noop', {}, { removeOnComplete: true }));
const bull = await bullRun.result;
console.log(`BullMQ add + worker (no-op)         ${bull.rate} jobs/s  p50 ${bull.p50Ms} ms   p99 ${bull.p99Ms} ms`);
await queue.close();
await redis.stop();

// (c) The pipeline: ingress -> JOBS_FAST -> worker-fast -> service-a, no-op work, tracing off,
// (d) the same pipeline on BullMQ and (e) the floor pipeline, both calling this stack's
// service-a, in rounds.
const stack = await startStack(nats.url, stackEnv);
const ours = await openPipelineLoad(stack, options);
const serviceA = { url: stack.url('service-a'), pid: stack.supervisor.pidOf('service-a') ?? 0 };
const peer = await openBullPipeline(serviceA, options);
const floor = await openFloorPipeline(serviceA, options);
type Round = { pipeline: PipelineResult['pipeline']; bullPipeline: SideResult; floorPipeline: SideResult };
const runs: Round[] = [];
const sides = [
  ['ours', async (r: Partial<Round>) => { r.pipeline = await ours.saturate('pipeline'); }],
  ['the BullMQ pipeline', async (r: Partial<Round>) => { r.bullPipeline = await peer.saturate(); }],
  ['the floor', async (r: Partial<Round>) => { r.floorPipeline = await floor.saturate(); }],
] as const;
for (let round = 1; round <= rounds; round++) {
  // ABC in odd rounds, CBA in even ones: the VM's drift within a round must not fall on one side
  // every round (in fixed order it skewed the tracing variants, bench/lib/tracing-overhead.ts).
  const order = round % 2 === 1 ? [...sides] : [...sides].reverse();
  console.log(`round ${round} of ${rounds} (${order.map(([name]) => name).join(', then ')})`);
  const r: Partial<Round> = {};
  for (const [, run] of order) await run(r);
  runs.push(r as Round);
}
await floor.close();
await peer.close();
const steady = await ours.steady('pipeline');
await ours.close();
// Rates and CPU per job: the medians of the rounds; latencies: those of the round with the median rate.
const medianRound = <T extends { rate: number; cpuUsPerJob: number; brokerCpuUsPerJob: number; loadCpuUsPerJob: number }>(results: T[]): T => {
  const rate = median(results.map((r) => r.rate));
  const nearest = results.reduce((best, r) => (Math.abs(r.rate - rate) < Math.abs(best.rate - rate) ? r : best));
  const of = (field: 'cpuUsPerJob' | 'brokerCpuUsPerJob' | 'loadCpuUsPerJob') => median(results.map((r) => r[field]));
  return { ...nearest, rate, cpuUsPerJob: of('cpuUsPerJob'), brokerCpuUsPerJob: of('brokerCpuUsPerJob'), loadCpuUsPerJob: of('loadCpuUsPerJob') };
};
const pipeline = medianRound(runs.map((r) => r.pipeline));
const bullPipeline = medianRound(runs.map((r) => r.bullPipeline));
const floorPipeline = medianRound(runs.map((r) => r.floorPipeline));
const threeDecimals = (x: number) => Number(x.toFixed(3));
const ratios = (of: (r: Round) => number) => runs.map((r) => threeDecimals(of(r)));
const roundRatios = ratios((r) => r.pipeline.rate / r.bullPipeline.rate);
const floorRoundRatios = ratios((r) => r.floorPipeline.rate / r.bullPipeline.rate);
const machine = (side: { cpuUsPerJob: number; brokerCpuUsPerJob: number; loadCpuUsPerJob: number }) => side.cpuUsPerJob + side.brokerCpuUsPerJob + side.loadCpuUsPerJob;

const summary = {
  date: new Date().toISOString(), node: process.version, jobs, concurrency,
  raw, bullmq: bull, pipeline, bullmqPipeline: bullPipeline, floorPipeline,
  ratioToRawJetStream: Number((pipeline.rate / raw.rate).toFixed(3)),
  ratioToBullMQ: Number((pipeline.rate / bull.rate).toFixed(3)),
  /** Ours over the BullMQ pipeline, jobs/s at saturation, the median of the rounds' ratios (goal: at least 1.5). */
  ratioToBullMQPipeline: threeDecimals(median(roundRatios)),
  roundRatios,
  /** The floor pipeline over the BullMQ pipeline (median of the rounds): the most any pipeline of
   * our shape on NATS could reach against it on this machine, whatever it dropped. */
  floorRatioToBullMQPipeline: threeDecimals(median(floorRoundRatios)),
  floorRoundRatios,
  /** Ours over the floor (median of the rounds): what our guarantees cost against doing nothing. */
  ratioToFloorPipeline: threeDecimals(median(ratios((r) => r.pipeline.rate / r.floorPipeline.rate))),
  /** CPU time of all our roles over the jobs done (goal: at most 350 µs). */
  cpuMicrosPerJob: pipeline.cpuUsPerJob,
  /** The whole machine's CPU per job, each side: its processes, its broker and the load (medians). */
  machineCpuMicrosPerJob: { ours: machine(pipeline), bullmqPipeline: machine(bullPipeline), floorPipeline: machine(floorPipeline) },
  steady,
};
console.log(`\npipeline / raw JetStream: ${summary.ratioToRawJetStream}   pipeline / BullMQ: ${summary.ratioToBullMQ}   pipeline / BullMQ pipeline: ${summary.ratioToBullMQPipeline} (rounds ${roundRatios.join(', ')})   our CPU per job: ${summary.cpuMicrosPerJob} µs (median of ${rounds} rounds)`);
console.log(`the floor / BullMQ pipeline: ${summary.floorRatioToBullMQPipeline} (rounds ${floorRoundRatios.join(', ')}): the most a pipeline of our shape on NATS reaches against it here   ours / the floor: ${summary.ratioToFloorPipeline}`);
console.log(`the machine's CPU per job (processes + broker + load, medians): ours ${summary.machineCpuMicrosPerJob.ours} µs (nats-server ${pipeline.brokerCpuUsPerJob}), the BullMQ pipeline ${summary.machineCpuMicrosPerJob.bullmqPipeline} µs (redis-server ${bullPipeline.brokerCpuUsPerJob}), the floor ${summary.machineCpuMicrosPerJob.floorPipeline} µs (nats-server ${floorPipeline.brokerCpuUsPerJob})`);
const out = fileURLToPath(new URL('./results/pipeline-latest.json', import.meta.url));
writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
console.log(`written to ${out}`);

await stack.stop();
await nc.close();
await nats.dispose();
