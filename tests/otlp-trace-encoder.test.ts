// Our encoder of a trace export (platform/telemetry/otlp-trace-encoder.ts) against the SDK's own
// serializer, @opentelemetry/otlp-transformer's ProtobufTraceSerializer: spans made by the real SDK,
// with every kind of field an export can hold, must come out as the same bytes. Then the writer's
// numbers against BigInt arithmetic, and the roles' exporter sending to a real HTTP receiver.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver } from '../devenv/otlp-receiver.ts';
import { encodeTraceExport } from '#platform/telemetry/otlp-trace-encoder.ts';
import { ProtobufTraceExporter } from '#platform/telemetry/otlp-trace-exporter.ts';
import { ProtobufWriter } from '#platform/telemetry/protobuf-writer.ts';

function provider(service: string, exporter: InMemorySpanExporter): TracerProvider {
  // Generous limits: the encoder must carry a span over 16 KB (a three-byte length) as the SDK does.
  return new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'service.version': '1.2.3', 'tps.ünïcode': 'naïve ✓' }),
    spanLimits: { attributeValueLengthLimit: 100_000 },
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
}

/** Spans of two resources and three scopes, with every field the span message has. */
function richSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const worker = provider('worker-fast', exporter);
  const tracer = worker.getTracer('tps-lab-http');
  // A remote parent with a trace state, as a job's message carries it.
  const remote = new W3CTraceContextPropagator().extract(ROOT_CONTEXT, {
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'tps=1,other=x',
  }, { get: (carrier, key) => (carrier as Record<string, string>)[key], keys: (carrier) => Object.keys(carrier as object) });
  const linked = tracer.startSpan('earlier attempt');
  linked.end();
  const attributes: Attributes = {
    'http.request.method': 'POST', 'server.port': 8081, 'tps.ratio': 0.25, 'tps.retry': false, 'tps.offset': -42,
    'tps.big': 2 ** 40 + 7, 'tps.huge': -(2 ** 53) + 1, 'tps.nan': Number.NaN, 'tps.hops': ['service-b', 'service-c'],
    'tps.counts': [1, 2, 300], 'tps.flags': [true, false], 'tps.empty': '', 'tps.ünïcode ✓': 'ǅ😀 ✓',
    'tps.long': 'x'.repeat(200), 'tps.longer': 'ü'.repeat(9_000),
  };
  const server = tracer.startSpan('POST /work', { kind: SpanKind.SERVER, links: [{ context: linked.spanContext(), attributes: { 'tps.attempt': 2 } }] }, remote);
  server.setAttributes(attributes);
  server.addEvent('breaker opened', { 'tps.circuit': 'service-a->service-b', 'tps.failures': 5 });
  server.addEvent('no attributes');
  const client = tracer.startSpan('POST', { kind: SpanKind.CLIENT }, trace.setSpan(ROOT_CONTEXT, server));
  client.setStatus({ code: SpanStatusCode.ERROR, message: 'service-b answered 503 (ünïcode ✓)' });
  client.end();
  server.setStatus({ code: SpanStatusCode.OK });
  server.end();
  for (const kind of [SpanKind.INTERNAL, SpanKind.PRODUCER, SpanKind.CONSUMER]) worker.getTracer('tps-lab', '0.9.0').startSpan(`kind ${kind}`, { kind }).end();
  const ingress = provider('ingress', exporter).getTracer('tps-lab');
  ingress.startSpan('').end(); // an empty name
  return exporter.getFinishedSpans();
}

const sdkBytes = (spans: ReadableSpan[]) => Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) ?? []);

describe('encodeTraceExport', () => {
  it('writes the same bytes as the SDK serializer for spans with every field', () => {
    const spans = richSpans();
    expect(spans.length).toBe(7);
    const ours = Buffer.from(encodeTraceExport(spans));
    expect(ours.length).toBeGreaterThan(16_384); // the span with tps.longer needs a three-byte length
    expect(ours.equals(sdkBytes(spans))).toBe(true);
  });

  it('writes the same bytes for a full batch of worker spans, and for none', () => {
    const exporter = new InMemorySpanExporter();
    const tracer = provider('worker-fast', exporter).getTracer('tps-lab');
    for (let i = 0; i < 512; i++) {
      const span = tracer.startSpan('jobs.fast process', { kind: SpanKind.CONSUMER });
      span.setAttributes({ 'messaging.system': 'nats', 'messaging.destination.name': 'jobs.fast.echo', 'tps.job.id': `job-${i}`, 'tps.attempt': i % 4 });
      span.end();
    }
    const spans = exporter.getFinishedSpans();
    // Twice: the second export reuses the size the first one reached.
    for (let round = 0; round < 2; round++) expect(Buffer.from(encodeTraceExport(spans)).equals(sdkBytes(spans))).toBe(true);
    expect(Buffer.from(encodeTraceExport([])).equals(sdkBytes([]))).toBe(true);
  });
});

describe('ProtobufWriter', () => {
  /** The canonical varint of a 64-bit value, by BigInt. */
  const varintOf = (value: bigint): number[] => {
    let v = BigInt.asUintN(64, value);
    const out: number[] = [];
    while (v > 0x7fn) { out.push(Number(v & 0x7fn) | 0x80); v >>= 7n; }
    out.push(Number(v));
    return out;
  };

  it('writes varints, times and lengths as BigInt arithmetic does, growing from a tiny buffer', () => {
    const w = new ProtobufWriter(4);
    const expected: number[] = [];
    for (const v of [0, 1, 127, 128, 300, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -(2 ** 40)]) {
      w.varint(v);
      expected.push(...varintOf(BigInt(v)));
    }
    for (const [seconds, nanos] of [[0, 0], [1_764_979_200, 999_999_999], [2 ** 32 - 1, 999_999_999], [65_535, 1], [65_536, 0]] as const) {
      w.hrTimeFixed64(seconds, nanos);
      const bytes = Buffer.alloc(8);
      bytes.writeBigUInt64LE(BigInt(seconds) * 1_000_000_000n + BigInt(nanos));
      expected.push(...bytes);
    }
    // Messages whose length needs one, two and three bytes, each begun with room for one.
    for (const size of [5, 200, 20_000]) {
      const start = w.begin();
      w.bytes(new Uint8Array(size).fill(7));
      w.end(start);
      expected.push(...varintOf(BigInt(size + varintOf(BigInt(size)).length)), ...varintOf(BigInt(size)), ...new Array<number>(size).fill(7));
    }
    expect([...w.finish()]).toEqual(expected);
  });
});

describe('ProtobufTraceExporter', () => {
  const receiverStarted = startOtlpReceiver();
  afterAll(async () => (await receiverStarted).close());

  it('sends a batch over OTLP/HTTP protobuf that a receiver reads back span for span', async () => {
    const receiver = await receiverStarted;
    const spans = richSpans();
    const exporter = new ProtobufTraceExporter({ url: `${receiver.url}/v1/traces` });
    const result = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(spans, resolve));
    await exporter.shutdown();
    expect(result.error).toBeUndefined();
    expect(result.code).toBe(0);
    expect(receiver.problems).toEqual([]);
    expect(receiver.encodings).toEqual(new Set(['protobuf']));
    expect(receiver.spans.map((s) => `${s.service} ${s.name}`).sort()).toEqual(spans.map((s) => `${s.resource.attributes['service.name']} ${s.name}`).sort());
    const server = receiver.spans.find((s) => s.name === 'POST /work');
    expect(server).toMatchObject({ parentSpanId: 'b7ad6b7169203331', traceId: '0af7651916cd43dd8448eb211c80319c' });
    expect(server?.attributes['tps.longer']).toBe('ü'.repeat(9_000));
  });
});
