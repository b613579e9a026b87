// The cost of tracing: the same pipeline measurement with tracing off, on (every span exported over
// OTLP/HTTP, protobuf as by default, to a sink process that counts and discards; and the same in
// JSON), and on with 10 % of the jobs sampled,
// alternating in rounds so that drift of a shared machine hits every variant alike. Tracing off is
// OTEL_SDK_DISABLED=true: the preload loads no SDK at all. Every run has a nats-server of its own,
// with an empty store, so no run inherits another's state: on one server for all 16 runs of four
// rounds, nats-server's CPU per job quadrupled from the 13th run on (2026-12-05), which fell on the
// variants that ran after it.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startNatsServer } from '#devenv/nats-server.ts';
import { startStack } from '#devenv/stack.ts';
import { measurePipeline, type PipelineOptions, type PipelineResult } from './pipeline-run.ts';
import { cpuMs, freePort, startTarget } from './processes.ts';
import { median as medianOf } from './stats.ts';

type SinkStats = { requests: number; bytes: number; spans: number };
type Variant = { name: string; env: (sinkUrl: string) => Record<string, string> };
type Run = { variant: string; round: number; place: number; spansPerJob: number; exportedMiB: number; sinkCpuUsPerJob: number } & PipelineResult;

const variants: Variant[] = [
  { name: 'tracing off', env: () => ({}) },
  { name: 'tracing on', env: (url) => ({ OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: url }) },
  { name: 'tracing on, JSON export', env: (url) => ({ OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }) },
  { name: 'tracing on, 10 % sampled', env: (url) => ({ OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }) },
];

type Sink = { url: string; pid: number };

/** One variant's run: a nats-server and a stack of its own, measured, its spans counted at the sink. */
async function runVariant(variant: Variant, sink: Sink, stackEnv: Record<string, string>, options: PipelineOptions, at: { round: number; place: number }): Promise<Run> {
  const stats = async () => (await (await fetch(`${sink.url}/stats`)).json()) as SinkStats;
  const jobsPerRun = 2_000 + options.jobs + options.steadyRate * options.steadySeconds;
  const before = await stats();
  const sinkBefore = cpuMs(sink.pid);
  const nats = await startNatsServer();
  const stack = await startStack(nats.url, { ...stackEnv, ...variant.env(sink.url) });
  const result = await measurePipeline(stack, { ...options, ...(nats.pid ? { brokerPid: nats.pid } : {}) }, variant.name);
  await stack.stop(); // the roles flush their last spans on the way out
  await nats.dispose();
  const after = await stats();
  return {
    variant: variant.name, ...at, ...result, sinkCpuUsPerJob: Math.round(((cpuMs(sink.pid) - sinkBefore) * 1000) / jobsPerRun),
    spansPerJob: Number(((after.spans - before.spans) / jobsPerRun).toFixed(2)), exportedMiB: Math.round((after.bytes - before.bytes) / 2 ** 20),
  };
}

export async function compareTracing(stackEnv: Record<string, string>, options: PipelineOptions, rounds: number): Promise<void> {
  const port = await freePort();
  const sink = await startTarget([fileURLToPath(new URL('../targets/otlp-sink.ts', import.meta.url)), String(port)], {}, `http://127.0.0.1:${port}/stats`);
  const runs: Run[] = [];
  for (let round = 1; round <= rounds; round++) {
    // Each round starts one variant later (a Latin square over the rounds), so the VM's drift
    // within a round does not fall on the same variant every round. In rounds always in the same
    // order, tracing on, run right after tracing off, read 432-463 µs of the roles' CPU per job
    // against 343-441 for JSON export after it (2026-12-07), the reverse of what the two encoders
    // cost alone; rotated, the same hour ranked them as they are (docs/benchmarks.md).
    const order = variants.map((_, i) => variants[(i + round - 1) % variants.length] as Variant);
    for (const [place, variant] of order.entries()) {
      console.log(`round ${round}, run ${place + 1} of ${order.length}: ${variant.name}`);
      runs.push(await runVariant(variant, sink, stackEnv, options, { round, place: place + 1 }));
    }
  }
  await sink.stop();

  const tenth = (x: number) => Math.round(x * 10) / 10;
  const offRates = new Map(runs.filter((r) => r.variant === variants[0]?.name).map((r) => [r.round, r.pipeline.rate]));
  const summaries = variants.map(({ name }) => {
    const mine = runs.filter((r) => r.variant === name);
    const median = (xs: number[]) => tenth(medianOf(xs));
    return {
      variant: name,
      rate: median(mine.map((r) => r.pipeline.rate)),
      cpuUsPerJob: median(mine.map((r) => r.pipeline.cpuUsPerJob)),
      /** The whole machine's: the roles, nats-server, the sink and the load. */
      machineCpuUsPerJob: median(mine.map((r) => r.pipeline.cpuUsPerJob + r.pipeline.brokerCpuUsPerJob + r.pipeline.loadCpuUsPerJob + r.sinkCpuUsPerJob)),
      /** The roles' CPU per job in units of nats-server's in the same run. The broker does the same
       * work per job whatever the roles trace (one traceparent header aside), so its CPU per job
       * gauges how fast the VM ran that run: in runs of 20 000 jobs this moved ±3 % between rounds
       * where rates moved ±25 % (2026-12-05). Short runs, where start-up costs weigh, it reads badly. */
      rolesPerBrokerCpu: Number(medianOf(mine.map((r) => r.pipeline.cpuUsPerJob / (r.pipeline.brokerCpuUsPerJob || Number.NaN))).toFixed(2)),
      steadyP50Ms: median(mine.map((r) => r.steady.endToEnd.p50Ms)),
      steadyP99Ms: median(mine.map((r) => r.steady.endToEnd.p99Ms)),
      spansPerJob: median(mine.map((r) => r.spansPerJob)),
      /** Each round's rate over tracing off's in the same round, then their median: the VM's drift
       * between rounds cancels out of a pair run minutes apart. */
      rateToOff: Number(medianOf(mine.map((r) => r.pipeline.rate / (offRates.get(r.round) ?? r.pipeline.rate))).toFixed(3)),
    };
  });
  const off = summaries[0] as (typeof summaries)[number];
  console.log(`\nmedians of ${rounds} rounds:`);
  for (const s of summaries) {
    const cost = s === off ? '' : `  (throughput ${(((s.rate - off.rate) / off.rate) * 100).toFixed(1)} % from the medians, ${((s.rateToOff - 1) * 100).toFixed(1)} % round by round, CPU per job +${(((s.cpuUsPerJob - off.cpuUsPerJob) / off.cpuUsPerJob) * 100).toFixed(1)} %, machine's CPU per job +${(((s.machineCpuUsPerJob - off.machineCpuUsPerJob) / off.machineCpuUsPerJob) * 100).toFixed(1)} %, roles' CPU in nats-server's +${(((s.rolesPerBrokerCpu - off.rolesPerBrokerCpu) / off.rolesPerBrokerCpu) * 100).toFixed(1)} %)`;
    console.log(`${s.variant.padEnd(26)} ${s.rate} jobs/s, roles' CPU ${s.cpuUsPerJob} µs/job (${s.rolesPerBrokerCpu}x nats-server's), machine's ${s.machineCpuUsPerJob} µs/job, at ${options.steadyRate}/s p50 ${s.steadyP50Ms} ms p99 ${s.steadyP99Ms} ms, ${s.spansPerJob} spans exported per job${cost}`);
  }
  const out = fileURLToPath(new URL('../results/pipeline-tracing-latest.json', import.meta.url));
  writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, options, rounds, summaries, runs }, null, 2)}\n`);
  console.log(`written to ${out}`);
}
