// The messaging spans and the NATS header carrier, with a real SDK in this test process (spans kept
// in memory): the send span injects W3C context into NATS headers, the process span continues it,
// failures mark the span, and a re-publish can link to the trace a dead-lettered job came from.
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { exemplarOf, jobTraceOf, linkFromHeaders, natsHeaderGetter, natsHeaderSetter, processTraced, sendTraced } from '#platform/nats/trace-headers.ts';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  propagation.disable();
  context.disable();
});
beforeEach(() => exporter.reset());

const to = { subject: 'jobs.slow.report', queue: 'jobs.slow' };
const from = { queue: 'jobs.slow', consumerGroup: 'workers-slow' };
const data = new Uint8Array(10);

describe('jobTraceOf', () => {
  it('reads the trace id and the sampled flag (bit 0) of a message\'s traceparent; only a sampled id is an exemplar', () => {
    const of = (flags: string) => {
      const h = natsHeaders();
      h.set('traceparent', `00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-${flags}`);
      return jobTraceOf(h);
    };
    expect(of('01')).toEqual({ id: '0af7651916cd43dd8448eb211c80319c', sampled: true });
    expect(of('03')?.sampled).toBe(true);
    expect(of('00')).toEqual({ id: '0af7651916cd43dd8448eb211c80319c', sampled: false });
    expect(of('02')?.sampled).toBe(false);
    expect(exemplarOf(of('01'))).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(exemplarOf(of('00'))).toBeUndefined();
    expect(jobTraceOf(natsHeaders())).toBeUndefined();
    expect(jobTraceOf(undefined)).toBeUndefined();
  });
});

describe('NATS header carrier', () => {
  it('round-trips W3C trace context, and reads a missing header as absent', () => {
    const h = natsHeaders();
    natsHeaderSetter.set(h, 'traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(natsHeaderGetter.get(h, 'traceparent')).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(natsHeaderGetter.get(h, 'tracestate')).toBeUndefined();
    expect(natsHeaderGetter.keys(h)).toEqual(['traceparent']);
    expect(natsHeaderGetter.get(undefined, 'traceparent')).toBeUndefined();
  });
});

describe('send and process spans', () => {
  it('continue one trace across a message: process is the child of send', async () => {
    let sent = natsHeaders();
    await sendTraced(to, { id: 'job-1', size: data.length }, async (h) => { sent = h ?? sent; });
    sent.set('Nats-Msg-Id', 'job-1');
    await processTraced({ subject: to.subject, headers: sent, data }, from, async () => {});
    const [send, process] = exporter.getFinishedSpans();
    expect(send?.name).toBe('send jobs.slow');
    expect(send?.kind).toBe(SpanKind.PRODUCER);
    expect(sent.get('traceparent')).toBe(`00-${send?.spanContext().traceId}-${send?.spanContext().spanId}-01`);
    expect(process).toMatchObject({ name: 'process jobs.slow', kind: SpanKind.CONSUMER });
    expect(process?.spanContext().traceId).toBe(send?.spanContext().traceId);
    expect(process?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
    expect(process?.attributes).toMatchObject({
      'messaging.system': 'nats', 'messaging.operation.type': 'process', 'messaging.destination.name': 'jobs.slow.report',
      'messaging.consumer.group.name': 'workers-slow', 'messaging.message.id': 'job-1', 'messaging.message.body.size': 10,
    });
  });

  it('starts a new trace for a message without trace context', async () => {
    await processTraced({ subject: to.subject, headers: undefined, data }, from, async () => {});
    const [process] = exporter.getFinishedSpans();
    expect(process?.parentSpanContext).toBeUndefined();
  });

  it('marks the span failed when the publish or the handler throws, and rethrows', async () => {
    const full = Object.assign(new Error('queue full'), { code: 'QUEUE_FULL' });
    await expect(sendTraced(to, { id: 'job-2', size: 1 }, async () => { throw full; })).rejects.toBe(full);
    await expect(processTraced({ subject: to.subject, data }, from, async () => { throw new TypeError('boom'); })).rejects.toThrow('boom');
    const [send, process] = exporter.getFinishedSpans();
    expect(send?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'queue full' });
    expect(send?.attributes['error.type']).toBe('QUEUE_FULL');
    expect(process?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
    expect(process?.attributes['error.type']).toBe('TypeError');
  });

  it('links a re-published message to the trace its headers came from (a DLQ replay)', async () => {
    const original = natsHeaders();
    original.set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(linkFromHeaders(original)?.context).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' });
    expect(linkFromHeaders(natsHeaders())).toBeUndefined();
    await sendTraced(to, { id: 'job-3', size: 1, linkTo: original }, async () => {});
    const [send] = exporter.getFinishedSpans();
    expect(send?.spanContext().traceId).not.toBe('0af7651916cd43dd8448eb211c80319c');
    expect(send?.links.map((l) => l.context.spanId)).toEqual(['b7ad6b7169203331']);
  });
});
