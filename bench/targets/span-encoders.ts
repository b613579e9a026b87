// The two encoders of a trace export side by side in one fresh process: the SDK's serializer
// (@opentelemetry/otlp-transformer's ProtobufTraceSerializer) and ours
// (platform/telemetry/otlp-trace-encoder.ts), on one batch of a worker's spans (the `process` and
// client spans of 256 jobs, attributes as the roles set them), alternating for <rounds> rounds.
// Prints the CPU of each per span, per round, as JSON. Run by bench/tracing-export.bench.ts.
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { messagingAttributes as m } from '#platform/nats/trace-headers.ts';
import { encodeTraceExport } from '#platform/telemetry/otlp-trace-encoder.ts';

const rounds = Number(process.argv[2] ?? 7);
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'worker-fast', 'service.version': '0.1.0', 'tps.track': 'fast' }),
  spanProcessors: [new SimpleSpanProcessor({ exporter })],
});
const tracer = provider.getTracer('tps-lab');
for (let job = 0; job < 256; job++) {
  const id = crypto.randomUUID();
  const process_ = tracer.startSpan('jobs.fast process', { kind: SpanKind.CONSUMER });
  process_.setAttributes({
    [m.system]: 'nats', [m.operationType]: 'process', [m.operationName]: 'process', [m.destination]: 'jobs.fast.echo',
    [m.consumerGroup]: 'workers-fast', [m.messageId]: id, [m.bodySize]: 96, 'tps.job.id': id, 'tps.job.type': 'fast.echo', 'tps.attempt': 1,
  });
  const client = tracer.startSpan('POST', { kind: SpanKind.CLIENT }, trace.setSpan(ROOT_CONTEXT, process_));
  client.setAttributes({ 'http.request.method': 'POST', 'url.full': 'http://127.0.0.1:8081/work', 'url.path': '/work', 'server.address': '127.0.0.1', 'server.port': 8081, 'http.response.status_code': 200 });
  client.end();
  process_.end();
}
const spans: ReadableSpan[] = exporter.getFinishedSpans();
const encoders = {
  sdk: (batch: ReadableSpan[]) => ProtobufTraceSerializer.serializeRequest(batch)?.length ?? 0,
  ours: (batch: ReadableSpan[]) => encodeTraceExport(batch).length,
};
if (encoders.sdk(spans) !== encoders.ours(spans)) throw new Error('the two encoders disagree on the size of one export');

/** CPU microseconds per span of `repeats` exports of the batch. */
function timed(encode: (batch: ReadableSpan[]) => number, repeats: number): number {
  const before = process.cpuUsage();
  for (let i = 0; i < repeats; i++) encode(spans);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / (repeats * spans.length);
}
for (const encode of Object.values(encoders)) timed(encode, 200); // warm-up: both compiled
const results: Array<{ sdk: number; ours: number }> = [];
for (let round = 0; round < rounds; round++) results.push({ sdk: timed(encoders.sdk, 300), ours: timed(encoders.ours, 300) });
console.log(JSON.stringify({ spans: spans.length, bytesPerSpan: encoders.ours(spans) / spans.length, results }));
