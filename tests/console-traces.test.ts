// The console's trace parts without a stack: the bounded store forgets the trace seen longest ago
// (and its jobs), the receiver takes only a token-bearing OTLP export, protobuf or JSON (gzipped
// or not), and refuses everything else with the reason, the waterfall puts a parent above its children, and a
// job's attempts carry the breaker states their own spans recorded.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '#platform/logger.ts';
import type { JobStatusEntry } from '#platform/job-status.ts';
import { spanKind, type ReceivedSpan } from '#platform/telemetry/otlp-json.ts';
import { jaegerTracesOfJob } from '../services/console/jaeger-traces.ts';
import { attemptsOf } from '../services/console/job-page.ts';
import { startOtlpReceiver, type RunningReceiver } from '../services/console/otlp-receiver.ts';
import { createTraceStore, type TraceStore } from '../services/console/trace-store.ts';
import { waterfallRows } from '../services/console/waterfall.ts';

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
const span = (trace: number, id: number, parent: number | undefined, extra: Partial<ReceivedSpan> = {}): ReceivedSpan => ({
  service: 'svc', scope: 'test', traceId: hex(trace, 32), spanId: hex(id, 16), parentSpanId: parent === undefined ? undefined : hex(parent, 16),
  name: `span ${id}`, kind: spanKind.internal, startMs: 1_000 + id, durationMs: 5, attributes: {}, status: { code: 0 }, events: [], ...extra,
});

describe('the trace store', () => {
  it('keeps at most its number of traces, forgetting the oldest and its jobs, and caps the spans of one trace', () => {
    const store = createTraceStore({ maxTraces: 3, maxSpansPerTrace: 2 });
    for (let t = 1; t <= 4; t++) store.add([span(t, t * 10, undefined, { attributes: { 'messaging.message.id': `job-${t}` } })]);
    expect(store.trace(hex(1, 32))).toBeUndefined();
    expect(store.tracesOfJob('job-1')).toEqual([]);
    expect(store.tracesOfJob('job-4')).toEqual([hex(4, 32)]);
    expect(store.recentJobs(2)).toEqual(['job-4', 'job-3']);
    store.add([span(4, 41, 40), span(4, 42, 40)]);
    expect(store.trace(hex(4, 32))).toHaveLength(2);
    expect(store.stats()).toEqual({ traces: 3, spans: 4, dropped: 1, maxTraces: 3 });
  });
});

describe('the console\'s OTLP receiver', () => {
  const token = 'receiver-test-token-0123456789';
  let store: TraceStore;
  let receiver: RunningReceiver;
  beforeAll(async () => {
    store = createTraceStore({ maxTraces: 10, maxSpansPerTrace: 10 });
    receiver = await startOtlpReceiver({ host: '127.0.0.1', port: 0, token, store, logger: createLogger('test', { log: { level: 'silent' }, instanceId: 'test' } as never) });
  });
  afterAll(() => receiver?.close());

  const exportOf = (traceId: string) => ({
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'ingress' } }] },
      scopeSpans: [{ scope: { name: 't' }, spans: [{ traceId, spanId: 'a'.repeat(16), name: 'POST /jobs', kind: 2, startTimeUnixNano: '1764000000000000000', endTimeUnixNano: '1764000000002500000' }] }],
    }],
  });
  /** The same export in the protobuf encoding, hand-assembled from the field numbers of opentelemetry-proto. */
  const protobufExport = (traceId: string) => {
    const field = (n: number, bytes: Buffer) => Buffer.concat([Buffer.from([(n << 3) | 2, bytes.length]), bytes]);
    const fixed64 = (n: number, ns: bigint) => { const b = Buffer.alloc(9); b[0] = (n << 3) | 1; b.writeBigUInt64LE(ns, 1); return b; };
    const text = (s: string) => Buffer.from(s, 'utf8');
    const attribute = field(1, Buffer.concat([field(1, text('service.name')), field(2, field(1, text('ingress')))]));
    const spanBytes = Buffer.concat([field(1, Buffer.from(traceId, 'hex')), field(2, Buffer.from('a'.repeat(16), 'hex')), field(5, text('POST /jobs')),
      Buffer.from([6 << 3, 2]), fixed64(7, 1764000000000000000n), fixed64(8, 1764000000002500000n)]);
    return field(1, Buffer.concat([field(1, attribute), field(2, Buffer.concat([field(1, field(1, text('t'))), field(2, spanBytes)]))]));
  };
  /** A google.rpc.Status as protobuf lays it out: tag 0x08 and the code, tag 0x12, one length byte
   * (every message here is under 128 bytes), the message. */
  const readStatus = (body: Buffer) => {
    expect([body[0], body[2], body[3]]).toEqual([0x08, 0x12, body.length - 4]);
    return { code: body[1], message: body.subarray(4).toString('utf8') };
  };
  const post = (body: string | Buffer, headers: Record<string, string>) => fetch(`${receiver.url}/v1/traces`, { method: 'POST', headers, body });
  const json = { 'content-type': 'application/json', authorization: `Bearer ${token}` };

  it('refuses an export without its token, in another encoding, malformed, or too large, each with the reason', async () => {
    const none = await post(JSON.stringify(exportOf('1'.repeat(32))), { 'content-type': 'application/json' });
    expect([none.status, ((await none.json()) as { message: string }).message]).toEqual([401, expect.stringContaining('wants its token')]);
    expect((await post(JSON.stringify(exportOf('1'.repeat(32))), { ...json, authorization: 'Bearer not-it-at-all-000000' })).status).toBe(401);
    const form = await post('a=b', { ...json, 'content-type': 'application/x-www-form-urlencoded' });
    expect([form.status, ((await form.json()) as { message: string }).message]).toEqual([415, expect.stringContaining('application/x-protobuf or application/json')]);
    // A resourceSpans field whose length runs past the end of the body: refused in the request's
    // encoding, a google.rpc.Status (field 1 code 3, INVALID_ARGUMENT; field 2 the message).
    const cut = await post(Buffer.from([10, 50, 18]), { ...json, 'content-type': 'application/x-protobuf' });
    expect([cut.status, cut.headers.get('content-type')]).toEqual([400, 'application/x-protobuf']);
    expect(readStatus(Buffer.from(await cut.arrayBuffer()))).toEqual({ code: 3, message: expect.stringContaining('not an OTLP protobuf trace export') });
    const stranger = await post(protobufExport('1'.repeat(32)), { 'content-type': 'application/x-protobuf' });
    expect([stranger.status, readStatus(Buffer.from(await stranger.arrayBuffer()))]).toEqual([401, { code: 16, message: expect.stringContaining('wants its token') }]);
    expect((await post('{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "nope"}]}]}]}', json)).status).toBe(400);
    expect((await post('{not json', json)).status).toBe(400);
    expect((await post(Buffer.alloc(9 * 1024 * 1024, 32), json)).status).toBe(413);
    expect((await fetch(`${receiver.url}/v1/metrics`, { method: 'POST', headers: json, body: '{}' })).status).toBe(404);
    expect(store.stats().spans).toBe(0);
  });

  it('keeps the spans of a valid export, JSON or protobuf, plain or gzipped', async () => {
    expect((await post(JSON.stringify(exportOf('2'.repeat(32))), json)).status).toBe(200);
    const taken = await post(protobufExport('4'.repeat(32)), { ...json, 'content-type': 'application/x-protobuf' });
    expect([taken.status, taken.headers.get('content-type')]).toEqual([200, 'application/x-protobuf']);
    // The answer is what the roles' protobuf exporter reads back (a JSON `{}` makes it warn on every export).
    expect(ProtobufTraceSerializer.deserializeResponse(new Uint8Array(await taken.arrayBuffer()))).toEqual({});
    expect(store.trace('4'.repeat(32))?.[0]).toMatchObject({ service: 'ingress', name: 'POST /jobs', durationMs: 2.5 });
    expect((await post(gzipSync(JSON.stringify(exportOf('3'.repeat(32)))), { ...json, 'content-encoding': 'gzip' })).status).toBe(200);
    const [kept] = store.trace('2'.repeat(32)) ?? [];
    expect(kept).toMatchObject({ service: 'ingress', name: 'POST /jobs', startMs: 1764000000000, durationMs: 2.5 });
    expect(store.trace('3'.repeat(32))).toHaveLength(1);
  });
});

it('draws a parent above its children, siblings by start, a span whose parent never came as a root', () => {
  const rows = waterfallRows([span(1, 3, 1), span(1, 1, undefined), span(1, 2, 1), span(1, 4, 2), span(1, 9, 8)]);
  expect(rows.map((r) => [r.span.spanId.slice(-1), r.depth])).toEqual([['1', 0], ['2', 1], ['4', 2], ['3', 1], ['9', 0]]);
  expect(rows[0]?.offsetMs).toBe(0);
});

it('gives each attempt the breaker states its own spans met', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
  const history: JobStatusEntry[] = [
    { state: 'accepted', at: at(0), type: 'fast.echo', pool: 'fast' },
    { state: 'processing', at: at(1), type: 'fast.echo', pool: 'fast', attempt: 1 },
    { state: 'processing', at: at(2), type: 'fast.echo', pool: 'fast', attempt: 1, error: { code: 'CIRCUIT_OPEN', message: 'open' } },
    { state: 'processing', at: at(5), type: 'fast.echo', pool: 'fast', attempt: 2 },
    { state: 'completed', at: at(6), type: 'fast.echo', pool: 'fast', attempt: 2 },
  ];
  const breaker = (state: string) => ({ 'tps.circuit': 'worker-fast->service-a', 'tps.circuit.state': state });
  const spans = [
    span(1, 1, undefined), // the ingress
    span(1, 2, 1, { kind: spanKind.consumer, attributes: { 'tps.job.attempt': 1, ...breaker('open') } }),
    span(1, 3, 1, { kind: spanKind.consumer, attributes: { 'tps.job.attempt': 2, ...breaker('half_open') } }),
    span(1, 4, 3, { attributes: { 'tps.circuit': 'service-a->service-b', 'tps.circuit.state': 'closed' } }),
  ];
  expect(attemptsOf(history, spans)).toEqual([
    { attempt: 1, outcome: 'failed', startedAt: at(1), endedAt: at(2), error: { code: 'CIRCUIT_OPEN', message: 'open' }, breakers: [{ circuit: 'worker-fast->service-a', state: 'open' }] },
    { attempt: 2, outcome: 'completed', startedAt: at(5), endedAt: at(6), breakers: [{ circuit: 'worker-fast->service-a', state: 'half_open' }, { circuit: 'service-a->service-b', state: 'closed' }] },
  ]);
});

it('reads a job\'s trace from Jaeger\'s query API (its published JSON): typed tags, parents, microseconds, failures', async () => {
  const asked: string[] = [];
  const trace = {
    traceID: 'a'.repeat(32),
    processes: { p1: { serviceName: 'ingress' }, p2: { serviceName: 'worker-fast' } },
    spans: [
      { traceID: 'a'.repeat(32), spanID: '1'.repeat(16), operationName: 'POST /jobs', processID: 'p1', references: [], startTime: 1_764_000_000_000_000, duration: 2_500, tags: [{ key: 'span.kind', type: 'string', value: 'server' }] },
      { traceID: 'a'.repeat(32), spanID: '2'.repeat(16), operationName: 'process jobs.fast', processID: 'p2', references: [{ refType: 'CHILD_OF', traceID: 'a'.repeat(32), spanID: '1'.repeat(16) }],
        startTime: 1_764_000_000_001_000, duration: 40_000, tags: [{ key: 'span.kind', type: 'string', value: 'consumer' }, { key: 'tps.job.attempt', type: 'int64', value: 1 }, { key: 'otel.status_code', type: 'string', value: 'ERROR' }, { key: 'tps.circuit.state', type: 'string', value: 'open' }] },
    ],
  };
  const server = http.createServer((req, res) => { asked.push(req.url ?? ''); res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: [trace] })); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const found = await jaegerTracesOfJob(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'job-1');
    expect(new URL(`http://x${asked[0]}`).searchParams.get('tags')).toBe('{"messaging.message.id":"job-1"}');
    expect(found).toMatchObject({ traceIds: ['a'.repeat(32)] });
    const [root, consumer] = 'spans' in found ? found.spans : [];
    expect(root).toMatchObject({ service: 'ingress', kind: spanKind.server, startMs: 1_764_000_000_000, durationMs: 2.5, parentSpanId: undefined });
    expect(consumer).toMatchObject({ service: 'worker-fast', kind: spanKind.consumer, parentSpanId: '1'.repeat(16), durationMs: 40, status: { code: 2 }, attributes: { 'tps.job.attempt': 1 } });
  } finally {
    server.close();
  }
  expect(await jaegerTracesOfJob('http://127.0.0.1:1', 'job-1')).toMatchObject({ error: expect.stringContaining('did not answer') });
});
