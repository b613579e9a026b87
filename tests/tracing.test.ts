// One job = one trace, end to end: every role its own process (started by the supervisor with the
// telemetry preload), exporting OTLP/HTTP (protobuf, the default) to a receiver this test runs in
// Jaeger's place.
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dlqHeaders } from '#platform/dlq/dead-letter.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { spanKind, startOtlpReceiver, statusCode, type OtlpReceiver, type ReceivedSpan } from '#devenv/otlp-receiver.ts';
import { postJob } from '#devenv/roles.ts';
import { settle, startStack, type Stack } from '#devenv/stack.ts';

let server: NatsServerHandle;
let receiver: OtlpReceiver;
let stack: Stack;

beforeAll(async () => {
  server = await startNatsServer();
  receiver = await startOtlpReceiver();
  stack = await startStack(server.url, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '50' });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
  await server?.dispose();
});

/** Submits a job, waits for its end, and returns its trace once the spans named `service:name`
 * have arrived (each process exports on its own schedule). */
async function traceOfJob(body: unknown, expected: string[]): Promise<{ id: string; spans: ReceivedSpan[] }> {
  const complete = (spans: ReceivedSpan[]) => expected.every((e) => spans.some((s) => `${s.service}:${s.name}` === e));
  const r = await postJob(stack.url('ingress'), body);
  expect(r.status).toBe(202);
  const id = String(r.json.id);
  await settle(stack, [id], 20_000);
  const send = await waitFor(() => receiver.spans.find((s) => s.kind === spanKind.producer && s.attributes['messaging.message.id'] === id), 10_000, () => `the send span of job ${id}`);
  const spans = await waitFor(() => (complete(receiver.trace(send.traceId)) ? receiver.trace(send.traceId) : undefined), 10_000, () => `the whole trace of job ${id} (have ${receiver.trace(send.traceId).map((s) => `${s.service}:${s.name}`).join(', ')})`);
  return { id, spans };
}

function one(spans: ReceivedSpan[], where: Partial<Pick<ReceivedSpan, 'service' | 'name' | 'kind' | 'parentSpanId'>>): ReceivedSpan {
  const found = spans.filter((s) => Object.entries(where).every(([k, v]) => s[k as keyof ReceivedSpan] === v));
  expect(found, `exactly one span with ${JSON.stringify(where)}`).toHaveLength(1);
  return found[0] as ReceivedSpan;
}

/** The HTTP hop from `caller` (client span under `parent`) to `target` (its server span). */
function hop(spans: ReceivedSpan[], parent: ReceivedSpan, target: string): ReceivedSpan {
  const client = one(spans, { service: parent.service, kind: spanKind.client, parentSpanId: parent.spanId });
  expect(client.attributes['url.path']).toBe('/work');
  const server = one(spans, { service: target, kind: spanKind.server, parentSpanId: client.spanId });
  expect(server.name).toBe('POST /work');
  return server;
}

describe('a slow.report job is one trace', () => {
  let id: string;
  let spans: ReceivedSpan[];
  beforeAll(async () => {
    ({ id, spans } = await traceOfJob({ type: 'slow.report' }, [
      'ingress:POST /jobs', 'ingress:send jobs.slow', 'worker-slow:process jobs.slow', 'worker-slow:POST',
      'service-a:POST /work', 'service-a:work', 'service-b:POST /work', 'service-b:work', 'service-c:POST /work', 'service-c:work',
    ]));
  }, 40_000);

  it('starts at the ingress request, crosses NATS from send to process, and reaches service-c', () => {
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    // The roles' default encoding: nothing came as JSON, and no exporter complained of an answer.
    expect([...receiver.encodings]).toEqual(['protobuf']);
    for (const role of ['ingress', 'worker-slow', 'service-a']) expect(stack.log(role)).not.toContain('"component":"opentelemetry"');
    const root = one(spans, { service: 'ingress', kind: spanKind.server, parentSpanId: undefined });
    expect(root.name).toBe('POST /jobs');
    expect(root.attributes['http.response.status_code']).toBe(202);

    const send = one(spans, { service: 'ingress', name: 'send jobs.slow', kind: spanKind.producer });
    const ancestors = (s: ReceivedSpan): string[] => {
      const parent = spans.find((p) => p.spanId === s.parentSpanId);
      return parent ? [parent.spanId, ...ancestors(parent)] : [];
    };
    expect(ancestors(send)).toContain(root.spanId);
    expect(send.attributes).toMatchObject({
      'messaging.system': 'nats', 'messaging.operation.type': 'send', 'messaging.destination.name': 'jobs.slow.report', 'messaging.message.id': id,
    });

    const process = one(spans, { service: 'worker-slow', name: 'process jobs.slow', kind: spanKind.consumer, parentSpanId: send.spanId });
    expect(process.attributes).toMatchObject({
      'messaging.system': 'nats', 'messaging.operation.type': 'process', 'messaging.destination.name': 'jobs.slow.report',
      'messaging.message.id': id, 'messaging.consumer.group.name': 'workers-slow', 'tps.job.outcome': 'success', 'tps.job.attempt': 1,
    });
    expect(process.status.code).not.toBe(statusCode.error);

    const a = hop(spans, process, 'service-a');
    const b = hop(spans, a, 'service-b');
    const c = hop(spans, b, 'service-c');
    for (const server of [a, b, c]) {
      expect(server.attributes).toMatchObject({ 'http.response.status_code': 200, 'http.route': '/work', 'http.request.method': 'POST' });
      one(spans, { service: server.service, name: 'work', parentSpanId: server.spanId });
    }
    // One span per request: no second span of the framework's under the server span.
    expect(spans.filter((s) => s.name === 'request')).toEqual([]);
  });

  it('puts the trace id on the latency histograms as an exemplar', async () => {
    const traceId = spans[0]?.traceId ?? '';
    const exemplified = async (role: Parameters<Stack['url']>[0], family: string) => {
      // Exemplars exist only in OpenMetrics, which /metrics serves to a scraper that asks (Prometheus does).
      const text = await (await fetch(`${stack.url(role)}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } })).text();
      return text.split('\n').filter((l) => l.startsWith(`${family}_bucket`) && l.includes(`trace_id="${traceId}"`)).length;
    };
    expect(await exemplified('worker-slow', 'tps_job_processing_seconds')).toBeGreaterThan(0);
    expect(await exemplified('worker-slow', 'tps_job_end_to_end_seconds')).toBeGreaterThan(0);
    expect(await exemplified('worker-slow', 'tps_downstream_request_duration_seconds')).toBeGreaterThan(0);
    expect(await exemplified('service-b', 'tps_downstream_request_duration_seconds')).toBeGreaterThan(0);
    expect(await exemplified('service-c', 'tps_http_request_duration_seconds')).toBeGreaterThan(0);
    expect(await exemplified('ingress', 'tps_http_request_duration_seconds')).toBeGreaterThan(0);
  });
});

describe('a job whose trace is not sampled', () => {
  it('exports no span of it and puts its trace id on no histogram as an exemplar', async () => {
    // The caller says "not sampled" (flags 00): every role follows its parent and records nothing,
    // so an exemplar of this trace would open a trace Jaeger never got.
    const traceId = crypto.randomUUID().replaceAll('-', '');
    const r = await postJob(stack.url('ingress'), { type: 'slow.report' }, { traceparent: `00-${traceId}-${'1'.repeat(16)}-00` });
    expect(r.status).toBe(202);
    await settle(stack, [String(r.json.id)], 20_000);
    const openMetrics = { accept: 'application/openmetrics-text; version=1.0.0' };
    for (const role of ['ingress', 'worker-slow', 'service-a', 'service-b', 'service-c'] as const) {
      const text = await (await fetch(`${stack.url(role)}/metrics`, { headers: openMetrics })).text();
      expect(text, `${role}'s exemplars`).not.toContain(traceId);
      expect(text, `${role} still has exemplars of sampled traces`).toMatch(/_bucket\{[^}]*\} \d+ # \{trace_id="[0-9a-f]{32}"\}/);
    }
    expect(receiver.trace(traceId)).toEqual([]);
  });
});

describe('a failing job', () => {
  it('shows the error on the spans where it happened, and keeps its trace on the DLQ entry and in the logs', async () => {
    const { id, spans } = await traceOfJob({ type: 'fast.lookup', payload: { key: 42 } }, [
      'ingress:POST /jobs', 'worker-fast:process jobs.fast', 'worker-fast:POST', 'service-a:POST /work',
    ]);
    const process = one(spans, { service: 'worker-fast', name: 'process jobs.fast', kind: spanKind.consumer });
    expect(process.status.code).toBe(statusCode.error);
    expect(process.attributes).toMatchObject({ 'error.type': 'INVALID_PAYLOAD', 'tps.job.outcome': 'dead_lettered', 'messaging.message.id': id });

    const client = one(spans, { service: 'worker-fast', kind: spanKind.client, parentSpanId: process.spanId });
    expect(client.status.code).toBe(statusCode.error);
    expect(client.attributes['http.response.status_code']).toBe(422);
    const server = hop(spans, process, 'service-a');
    expect(server.attributes['http.response.status_code']).toBe(422);
    expect(server.status).toMatchObject({ code: statusCode.error, message: expect.stringContaining('not valid') });
    expect(server.attributes['error.type']).toBe('INVALID_PAYLOAD');
    // It failed at service-a: the trace goes no further.
    expect(spans.filter((s) => s.service === 'service-b')).toEqual([]);

    const jsm = await jetstreamManager(stack.nc);
    const entry = await jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.fast.lookup' });
    expect(entry?.header?.get(dlqHeaders.jobId)).toBe(id);
    expect(entry?.header?.get('traceparent')).toMatch(new RegExp(`^00-${process.traceId}-[0-9a-f]{16}-01$`));

    const line = await waitFor(() => stack.log('worker-fast').split('\n').filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.job_id === id), 5_000, () => `a worker-fast log line for job ${id}`);
    expect(line).toMatchObject({ service: 'worker-fast', trace_id: process.traceId, span_id: process.spanId });
  });
});
