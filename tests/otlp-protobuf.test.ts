// The OTLP protobuf decoder (platform/telemetry/otlp-protobuf.ts) against the SDK's own encoders:
// spans made by the real SDK, encoded by @opentelemetry/otlp-transformer both ways (protobuf, as
// the roles' exporter sends them, and JSON), read back by our receivers' one reading, must give the
// same spans. A body that is not an export is an OtlpDecodeError, never another throw.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { exportEncoding, readTraceExport } from '#platform/telemetry/otlp-export.ts';
import { spansOf } from '#platform/telemetry/otlp-json.ts';
import { countSpans, decodeTraceExport, OtlpDecodeError } from '#platform/telemetry/otlp-protobuf.ts';

function madeSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'worker-fast', 'service.version': '1.2.3' }), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer('tps-lab-http');
  const linked = tracer.startSpan('earlier attempt');
  linked.end();
  const server = tracer.startSpan('POST /work', { kind: SpanKind.SERVER, links: [{ context: linked.spanContext() }] });
  server.setAttributes({ 'http.request.method': 'POST', 'http.route': '/work', 'server.port': 8081, 'tps.ratio': 0.25, 'tps.retry': true, 'tps.offset': -42, 'tps.hops': ['service-b', 'service-c'], 'tps.empty': '' });
  server.addEvent('breaker opened', { 'tps.circuit': 'service-a->service-b', 'tps.failures': 5 });
  const client = tracer.startSpan('POST', { kind: SpanKind.CLIENT }, trace.setSpan(ROOT_CONTEXT, server));
  client.setAttribute('http.response.status_code', 503);
  client.setStatus({ code: SpanStatusCode.ERROR, message: 'service-b answered 503 (ünïcode ✓)' });
  client.end();
  server.end();
  return exporter.getFinishedSpans();
}

describe('decodeTraceExport', () => {
  it('reads what the SDK encodes in protobuf as the same spans as its JSON encoding', () => {
    const spans = madeSpans();
    const protobuf = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) ?? []);
    const json = Buffer.from(JsonTraceSerializer.serializeRequest(spans) ?? []);
    const fromProtobuf = readTraceExport('protobuf', protobuf);
    const fromJson = readTraceExport('json', json);
    if (!fromProtobuf.ok || !fromJson.ok) throw new Error(`not read: ${JSON.stringify([fromProtobuf, fromJson])}`);
    const read = spansOf(fromProtobuf.request);
    expect(read).toEqual(spansOf(fromJson.request));
    expect(read).toHaveLength(3);
    const server = read.find((s) => s.name === 'POST /work');
    expect(server).toMatchObject({
      service: 'worker-fast', scope: 'tps-lab-http', kind: 2,
      attributes: { 'server.port': 8081, 'tps.ratio': 0.25, 'tps.retry': true, 'tps.offset': -42, 'tps.hops': ['service-b', 'service-c'], 'tps.empty': '' },
      events: [{ name: 'breaker opened', attributes: { 'tps.circuit': 'service-a->service-b', 'tps.failures': 5 } }],
    });
    const client = read.find((s) => s.name === 'POST');
    expect(client).toMatchObject({ parentSpanId: server?.spanId, traceId: server?.traceId, status: { code: 2, message: 'service-b answered 503 (ünïcode ✓)' } });
    expect(countSpans(protobuf)).toBe(3);
    // The protobuf body is the smaller one by far: what the default saves on every export.
    expect(protobuf.length).toBeLessThan(json.length / 2);
  });

  it('names the encoding of a Content-Type, parameters and case aside, and no other', () => {
    expect(exportEncoding('application/x-protobuf')).toBe('protobuf');
    expect(exportEncoding('Application/JSON; charset=utf-8')).toBe('json');
    expect(exportEncoding('application/grpc')).toBeUndefined();
    expect(exportEncoding(undefined)).toBeUndefined();
  });

  it('refuses a body that is not an export with OtlpDecodeError: cut short, an unknown wire type, values nested too deep', () => {
    const whole = Buffer.from(ProtobufTraceSerializer.serializeRequest(madeSpans()) ?? []);
    for (const cut of [1, 2, 10, whole.length - 1]) expect(() => decodeTraceExport(whole.subarray(0, cut)), `cut at ${cut}`).toThrow(OtlpDecodeError);
    expect(() => decodeTraceExport(Buffer.from([(1 << 3) | 7]))).toThrow(/unsupported wire type 7/);
    // An attribute whose value is an array in an array ... nine deep.
    let value = Buffer.from([(1 << 3) | 2, 1, 120]);
    for (let i = 0; i < 9; i++) {
      const list = Buffer.concat([Buffer.from([(1 << 3) | 2, value.length]), value]);
      value = Buffer.concat([Buffer.from([(5 << 3) | 2, list.length]), list]);
    }
    const kv = Buffer.concat([Buffer.from([(1 << 3) | 2, 1, 107, (2 << 3) | 2, value.length]), value]);
    const resource = Buffer.concat([Buffer.from([(1 << 3) | 2, kv.length]), kv]);
    const body = Buffer.concat([Buffer.from([(1 << 3) | 2, resource.length + 2, (1 << 3) | 2, resource.length]), resource]);
    expect(() => decodeTraceExport(body)).toThrow(/nested deeper than 8/);
  });

  it('never throws anything but OtlpDecodeError on random bytes', () => {
    let seed = 7;
    const next = () => { seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31; return seed; };
    for (let i = 0; i < 2_000; i++) {
      const body = Buffer.from(Array.from({ length: next() % 64 }, () => next() % 256));
      try { decodeTraceExport(body); } catch (err) { expect(err).toBeInstanceOf(OtlpDecodeError); }
    }
  });
});
