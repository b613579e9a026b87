// The active span's ids, for log lines (every trace) and metric exemplars (sampled traces only).
// Only @opentelemetry/api: with tracing off there is never an active span and these return
// nothing, at the cost of a lookup.
import { context, trace, TraceFlags } from '@opentelemetry/api';

/** The active span's trace id when that trace is sampled, for a metric's exemplar: an unsampled
 * trace is never exported, and an exemplar of it would open a trace Jaeger never got. */
export function sampledTraceId(): string | undefined {
  const span = trace.getSpan(context.active())?.spanContext();
  return span && (span.traceFlags & TraceFlags.SAMPLED) !== 0 ? span.traceId : undefined;
}

/** `trace_id` and `span_id` of the active span, merged into every log line (pino mixin; pino
 * merges into the returned object, so it is a new one each time). */
export function traceCorrelation(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}
