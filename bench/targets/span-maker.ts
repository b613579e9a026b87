// One process that makes spans as a role does and exports them with the real SDK (our
// startTracing, a batch processor, the OTLP/HTTP exporter of OTEL_EXPORTER_OTLP_PROTOCOL) to the
// benchmark's sink, then prints the CPU it used per span: what making and exporting a span costs,
// without the rest of the pipeline's noise.
//   OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:PORT node bench/targets/span-maker.ts <jobs>
import { context, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { startTracing } from '#platform/telemetry/sdk.ts';
import { tracingSettings } from '#platform/telemetry/settings.ts';
import { recordAttributes } from '#platform/telemetry/spans.ts';

const jobs = Number(process.argv[2] ?? 20_000);
const tracing = await startTracing(tracingSettings({ ...process.env, OTEL_SDK_DISABLED: 'false' }, ['run', 'worker-fast']));
const tracer = trace.getTracer('tps-lab-http');

/** A worker's two spans for one job: `process` from the message's traceparent, the client call under it. */
function oneJob(carried: Record<string, string>): void {
  const parent = propagation.extract(ROOT_CONTEXT, carried);
  const process = tracer.startSpan('process jobs.fast', { kind: SpanKind.CONSUMER }, parent);
  recordAttributes(process, () => ({ 'messaging.system': 'nats', 'messaging.destination.name': 'jobs.fast', 'messaging.message.id': 'e3b0c442-98fc-1c14-9afb-f4c8996fb924', 'tps.job.attempt': 1 }));
  context.with(trace.setSpan(parent, process), () => {
    const client = tracer.startSpan('POST', { kind: SpanKind.CLIENT });
    recordAttributes(client, () => ({ 'http.request.method': 'POST', 'url.full': 'http://127.0.0.1:8081/work', 'url.path': '/work', 'server.address': '127.0.0.1', 'server.port': 8081 }));
    const headers: Record<string, string> = {};
    propagation.inject(trace.setSpan(context.active(), client), headers);
    client.setAttribute('http.response.status_code', 200);
    client.end();
  });
  process.end();
}

const carried = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
// Warm-up (JIT, the exporter's connection); at most one batch of it is exported in the window below.
for (let i = 0; i < 2_000; i++) oneJob(carried);
await new Promise((resolve) => setTimeout(resolve, 200));
const before = process.cpuUsage();
// In turns of 100 jobs, yielding between them so the exports run as they do in a role.
for (let done = 0; done < jobs; done += 100) {
  for (let i = 0; i < 100; i++) oneJob(carried);
  await new Promise((resolve) => setImmediate(resolve));
}
await tracing.shutdown(); // the last batch exported too
const used = process.cpuUsage(before);
console.log(JSON.stringify({ cpuUsPerSpan: (used.user + used.system) / (jobs * 2) }));
