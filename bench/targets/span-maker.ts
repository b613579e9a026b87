// One process that makes a worker's spans for each job with the project's own tracing code (the
// telemetry preload starting the SDK, processTraced for the `process` span, inClientSpan for the
// call to the next hop) and exports them to the benchmark's sink, then prints the CPU it used per
// span: what making and exporting a span costs, without the rest of the pipeline's noise.
//   OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:PORT node --import ./platform/telemetry/preload.ts bench/targets/span-maker.ts <jobs>
import { headers as natsHeaders } from '@nats-io/transport-node';
import { trace, type ProxyTracerProvider } from '@opentelemetry/api';
import { processTraced } from '#platform/nats/trace-headers.ts';
import { inClientSpan } from '#platform/telemetry/client-spans.ts';
import { tracingOn } from '#platform/telemetry/state.ts';

const jobs = Number(process.argv[2] ?? 20_000);
if (!tracingOn()) throw new Error('start it with --import ./platform/telemetry/preload.ts and OTEL_EXPORTER_OTLP_ENDPOINT set');
const provider = (trace.getTracerProvider() as ProxyTracerProvider).getDelegate() as unknown as { forceFlush(): Promise<void> };

const message = { subject: 'jobs.fast.echo', headers: natsHeaders(), data: new Uint8Array(100) };
message.headers.set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
message.headers.set('Nats-Msg-Id', 'e3b0c442-98fc-1c14-9afb-f4c8996fb924');
const from = { queue: 'jobs.fast', consumerGroup: 'workers-fast' };
const next = new URL('http://127.0.0.1:8081');
const answered = async () => ({ status: 200 });
/** A worker's two spans for one job: `process` from the message's traceparent, the client call under it. */
const oneJob = () => processTraced(message, from, () => inClientSpan('POST', next, '/work', { 'content-type': 'application/json' }, answered));

// Warm-up (JIT, the exporter's connection), flushed before the measured window.
for (let i = 0; i < 2_000; i++) await oneJob();
await provider.forceFlush();
const before = process.cpuUsage();
// In turns of 100 jobs, yielding between them so the exports run as they do in a role.
for (let done = 0; done < jobs; done += 100) {
  for (let i = 0; i < 100; i++) await oneJob();
  await new Promise((resolve) => setImmediate(resolve));
}
await provider.forceFlush(); // the last batch exported too
const used = process.cpuUsage(before);
console.log(JSON.stringify({ cpuUsPerSpan: (used.user + used.system) / (jobs * 2) }));
