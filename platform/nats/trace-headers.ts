// Trace context across the queue: the producer's `send <queue>` span injects W3C trace context into
// the NATS message headers, the consumer's `process <queue>` span continues the trace from them,
// so one job is one trace from the ingress through the worker to the last service. Span names and
// attributes follow the OpenTelemetry messaging semantic conventions. Only @opentelemetry/api:
// with tracing off no headers are added and the spans are the API's no-op ones.
import {
  context, isSpanContextValid, propagation, SpanKind, SpanStatusCode, trace,
  type Attributes, type Link, type Span, type TextMapGetter, type TextMapSetter,
} from '@opentelemetry/api';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { recordAttributes } from '../telemetry/spans.ts';

const tracer = trace.getTracer('tps-lab/nats');

export const natsHeaderSetter: TextMapSetter<MsgHdrs> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

export const natsHeaderGetter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (carrier) => carrier?.keys() ?? [],
  // NATS answers '' for a header that is not there; the propagator wants undefined.
  get: (carrier, key) => carrier?.get(key) || undefined,
};

/**
 * The trace a job's message belongs to, from its `traceparent`: the id for log lines and the DLQ
 * entry, and whether the trace is sampled. Only a sampled trace is exported, so only its id may
 * be a metric's exemplar: an exemplar of an unsampled one opens a trace Jaeger never got.
 */
export type JobTrace = { id: string; sampled: boolean };

export function jobTraceOf(headers: MsgHdrs | undefined): JobTrace | undefined {
  // version-traceid-spanid-flags (W3C Trace Context); bit 0 of the flags is "sampled".
  const [, id, , flags] = (headers?.get('traceparent') ?? '').split('-');
  return id ? { id, sampled: (Number.parseInt(flags ?? '0', 16) & 1) === 1 } : undefined;
}

/** The trace id a metric observation may carry as its exemplar: a sampled trace's only. */
export const exemplarOf = (trace: JobTrace | undefined): string | undefined => (trace?.sampled ? trace.id : undefined);

export const messagingAttributes = {
  system: 'messaging.system',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  destination: 'messaging.destination.name',
  messageId: 'messaging.message.id',
  bodySize: 'messaging.message.body.size',
  consumerGroup: 'messaging.consumer.group.name',
  errorType: 'error.type',
} as const;

/** The attributes every messaging span of ours has, and the operation's own. */
function messaging(operation: 'send' | 'process', destination: string, own: Attributes): Attributes {
  return {
    [messagingAttributes.system]: 'nats',
    [messagingAttributes.operationType]: operation,
    [messagingAttributes.operationName]: operation,
    [messagingAttributes.destination]: destination,
    ...own,
  };
}

/** Where a message goes: the subject it is published on, and the queue (low-cardinality span
 * name) it belongs to, e.g. subject `jobs.slow.report` on queue `jobs.slow`. */
export type MessageDestination = { subject: string; queue: string };

/** The span context in a message's headers (e.g. a dead-lettered job's original trace), as a link. */
export function linkFromHeaders(headers: MsgHdrs | undefined): Link | undefined {
  const span = trace.getSpan(propagation.extract(context.active(), headers, natsHeaderGetter));
  const spanContext = span?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? { context: spanContext } : undefined;
}

/** Runs `publish` inside a PRODUCER span; the headers it gets carry the span's trace context
 * (undefined when tracing is off and no headers were given). */
export function sendTraced<T>(
  to: MessageDestination,
  message: { id: string; size: number; headers?: MsgHdrs; linkTo?: MsgHdrs },
  publish: (headers: MsgHdrs | undefined) => Promise<T>,
): Promise<T> {
  const link = message.linkTo ? linkFromHeaders(message.linkTo) : undefined;
  return tracer.startActiveSpan(`send ${to.queue}`, { kind: SpanKind.PRODUCER, ...(link ? { links: [link] } : {}) }, async (span) => {
    recordAttributes(span, () => messaging('send', to.subject, {
      [messagingAttributes.messageId]: message.id,
      [messagingAttributes.bodySize]: message.size,
    }));
    let headers = message.headers;
    if (isSpanContextValid(span.spanContext())) {
      headers ??= natsHeaders();
      propagation.inject(context.active(), headers, natsHeaderSetter);
    }
    try {
      return await publish(headers);
    } catch (err) {
      markFailed(span, (err as { code?: string }).code ?? (err as Error).name, (err as Error).message);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Runs `handle` inside a CONSUMER span whose parent is the trace context in the message headers. */
export function processTraced<T>(
  msg: { subject: string; headers?: MsgHdrs | undefined; data: Uint8Array },
  from: { queue: string; consumerGroup: string },
  handle: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(context.active(), msg.headers, natsHeaderGetter);
  return tracer.startActiveSpan(`process ${from.queue}`, { kind: SpanKind.CONSUMER }, parent, async (span) => {
    recordAttributes(span, () => {
      const id = msg.headers?.get('Nats-Msg-Id');
      return messaging('process', msg.subject, {
        [messagingAttributes.consumerGroup]: from.consumerGroup,
        [messagingAttributes.bodySize]: msg.data.length,
        ...(id ? { [messagingAttributes.messageId]: id } : {}),
      });
    });
    try {
      return await handle(span);
    } catch (err) {
      markFailed(span, (err as Error).name, (err as Error).message);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Marks a span as failed the way the semantic conventions say: status ERROR and `error.type`. */
export function markFailed(span: Span, errorType: string, message: string): void {
  span.setAttribute(messagingAttributes.errorType, errorType);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}
