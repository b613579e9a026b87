// What tracing off costs: the @opentelemetry/api calls the roles make on every job, timed in a
// process where no SDK was started (exactly a role with tracing off), against the same work
// without them. Per fast.echo job the roles make one send, one process and one work span and
// about eight active-span lookups (log mixin, exemplars).
//   node bench/tracing-off.bench.ts [--calls 2000000]
import { benchArgs } from './lib/args.ts';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { processTraced, sendTraced } from '#platform/nats/trace-headers.ts';
import { sampledTraceId, traceCorrelation } from '#platform/telemetry/context.ts';
import { inSpan } from '#platform/telemetry/spans.ts';

const calls = benchArgs(import.meta.url, { calls: { type: 'string' } }).whole('calls', 2_000_000);
const message = { subject: 'jobs.fast.echo', headers: natsHeaders(), data: new Uint8Array(100) };
const work = async () => 1;

async function nsPerCall(run: () => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < 100_000; i++) await run(); // warm-up
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await run();
  return Number(process.hrtime.bigint() - started) / calls;
}

const baseline = await nsPerCall(work);
const cases: Record<string, () => Promise<unknown> | unknown> = {
  'sendTraced (send span)': () => sendTraced({ subject: 'jobs.fast.echo', queue: 'jobs.fast' }, { id: 'x', size: 100 }, work),
  'processTraced (process span)': () => processTraced(message, { queue: 'jobs.fast', consumerGroup: 'workers-fast' }, work),
  'inSpan (work span)': () => inSpan('work', { 'tps.service': 'service-a' }, work),
  'sampledTraceId (exemplar)': async () => sampledTraceId(),
  'traceCorrelation (log mixin)': async () => traceCorrelation(),
};
console.log(`async call without tracing: ${baseline.toFixed(0)} ns`);
const extra: Record<string, number> = {};
for (const [name, run] of Object.entries(cases)) {
  extra[name] = Math.max(0, (await nsPerCall(run)) - baseline);
  console.log(`${name.padEnd(30)} +${extra[name].toFixed(0)} ns per call`);
}
const perJob = (extra['sendTraced (send span)'] ?? 0) + (extra['processTraced (process span)'] ?? 0) + (extra['inSpan (work span)'] ?? 0) + 8 * (extra['sampledTraceId (exemplar)'] ?? 0);
console.log(`per fast.echo job: about ${(perJob / 1000).toFixed(2)} µs of CPU with tracing off`);
