// The active span's ids, for log lines and metric exemplars. Only @opentelemetry/api: with
// tracing off there is never an active span and these return nothing, at the cost of a lookup.
import { context, trace } from '@opentelemetry/api';

export function activeTraceId(): string | undefined {
  const span = trace.getSpan(context.active());
  return span?.spanContext().traceId;
}

/** `trace_id` and `span_id` of the active span, merged into every log line (pino mixin; pino
 * merges into the returned object, so it is a new one each time). */
export function traceCorrelation(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}
