// A DLQ replay admits its new job the way POST /jobs does (platform/admission/): inside a
// `send jobs.<pool>` PRODUCER span whose trace context travels on in the job's headers, linked to
// the original job's trace, and counted in tps_jobs_submitted_total. Its own semantics stay: the
// replay headers, one outcome per entry, and a full queue stops the replay with the entry kept.
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDlqOperations } from '#platform/dlq/operations.ts';
import { encodeJob, newJobId } from '#platform/job-message.ts';
import { createRegistry, type MetricsRegistry } from '#platform/metrics.ts';
import { publishDeadLetter } from '#platform/dlq/dead-letter.ts';
import { startNatsServer, type NatsServerHandle } from '#devenv/nats-server.ts';
import { provisioned } from '#devenv/roles.ts';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const originalTrace = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };

let server: NatsServerHandle;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  server = await startNatsServer();
  nc = await provisioned(server.url, { FAST_QUEUE_CAPACITY: '3' });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  await nc?.close();
  await server?.dispose();
  await provider.shutdown();
  trace.disable();
  propagation.disable();
  context.disable();
});
beforeEach(async () => {
  exporter.reset();
  for (const stream of ['JOBS_FAST', 'DLQ']) await jsm.streams.purge(stream);
});

/** A dead letter as a worker writes it, for a fast.echo job that ran under the original trace. */
async function deadLetter(): Promise<string> {
  const id = newJobId();
  const now = new Date().toISOString();
  const h = natsHeaders();
  h.set('traceparent', `00-${originalTrace.traceId}-${originalTrace.spanId}-01`);
  await publishDeadLetter(js, encodeJob({ id, type: 'fast.echo', pool: 'fast', payload: { n: 1 }, acceptedAt: now }), h, {
    jobId: id, type: 'fast.echo', pool: 'fast', failure: { code: 'OVERLOADED', message: 'test' }, reason: 'retries_exhausted',
    attempts: 4, firstFailure: now, lastFailure: now, originalSubject: 'jobs.fast.echo', originalSeq: 1, by: 'test',
  });
  return id;
}

async function submittedCount(registry: MetricsRegistry): Promise<number> {
  const text = await registry.metrics();
  return Number(/tps_jobs_submitted_total\{pool="fast",type="fast\.echo"\} (\d+)/.exec(text)?.[1] ?? Number.NaN);
}

describe('a replayed job is admitted like a submitted one', () => {
  it('is published inside a send span that links to the original trace, and counted as submitted', async () => {
    const original = await deadLetter();
    const registry = createRegistry({ defaults: false });
    const ops = await openDlqOperations(nc, { registry });
    const dry = await ops.replay({ filter: { jobId: original } }, { ratePerSecond: 100, dryRun: true, by: 'test' });
    expect(dry.map((o) => o.outcome)).toEqual(['would_replay']);
    expect(exporter.getFinishedSpans()).toEqual([]);

    const [outcome] = await ops.replay({ filter: { jobId: original } }, { ratePerSecond: 100, dryRun: false, by: 'test' });
    ops.close();
    expect(outcome?.outcome).toBe('replayed');
    const newJobId = (outcome as { newJobId: string }).newJobId;

    const sends = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.PRODUCER);
    expect(sends.map((s) => s.name)).toEqual(['send jobs.fast']);
    const send = sends[0];
    expect(send?.attributes).toMatchObject({
      'messaging.system': 'nats', 'messaging.operation.type': 'send', 'messaging.destination.name': 'jobs.fast.echo', 'messaging.message.id': newJobId,
    });
    expect(send?.links.map((l) => l.context)).toMatchObject([originalTrace]);

    const stored = await jsm.streams.getMessage('JOBS_FAST', { last_by_subj: 'jobs.fast.echo' });
    expect(stored?.json()).toMatchObject({ id: newJobId, type: 'fast.echo', pool: 'fast', payload: { n: 1 }, replayOf: original });
    expect(stored?.header.get('Nats-Msg-Id')).toBe(newJobId);
    expect(stored?.header.get('Tps-Replay-Of')).toBe(original);
    expect(stored?.header.get('Tps-Trace-Link')).toBe(`00-${originalTrace.traceId}-${originalTrace.spanId}-01`);
    // The worker's `process` span will be a child of the replay's send span.
    expect(stored?.header.get('traceparent')).toBe(`00-${send?.spanContext().traceId}-${send?.spanContext().spanId}-01`);

    expect(await submittedCount(registry)).toBe(1);
  });

  it('stops at a full queue: the entry stays, nothing is counted, the send span says why', async () => {
    for (let i = 0; i < 3; i++) await js.publish('jobs.fast.echo', '{}');
    const first = await deadLetter();
    const second = await deadLetter();
    const registry = createRegistry({ defaults: false });
    const ops = await openDlqOperations(nc, { registry });
    const outcomes = await ops.replay({ filter: {}, all: true }, { ratePerSecond: 100, dryRun: false, by: 'test' });
    expect(outcomes).toEqual([expect.objectContaining({ jobId: first, outcome: 'failed', why: 'the fast queue is full; replay the rest later (or with a lower --rate)' })]);
    expect((await ops.list({})).map((e) => e.jobId)).toEqual([first, second]);
    expect(await submittedCount(registry)).toBe(0);
    const [send] = exporter.getFinishedSpans();
    expect(send?.status.code).toBe(SpanStatusCode.ERROR);

    // The claim was given back: once there is room, the same entry replays.
    await jsm.streams.purge('JOBS_FAST');
    const again = await ops.replay({ filter: { jobId: first } }, { ratePerSecond: 100, dryRun: false, by: 'test' });
    ops.close();
    expect(again.map((o) => o.outcome)).toEqual(['replayed']);
    expect(await submittedCount(registry)).toBe(1);
  });
});
