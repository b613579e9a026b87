// Internal spans for the steps of a request worth seeing in a trace (the simulated work, a wait
// for a free slot), and how every span of ours gets its attributes. Only @opentelemetry/api: with
// tracing off these are the API's no-op spans.
import { SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';

const tracer = trace.getTracer('tps-lab');

/**
 * Gives a span its attributes only when it records. Attributes handed to the start are checked by
 * the SDK twice (for the sampler, then for the span) and an unsampled span pays for both; built
 * here only when needed, an unsampled span does not even build them.
 */
export function recordAttributes(span: Span, attributes: () => Attributes): void {
  if (span.isRecording()) span.setAttributes(attributes());
}

/** Runs `fn` inside a span named `name`; a throw marks the span as failed and is rethrown. */
export function inSpan<T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, async (span) => {
    recordAttributes(span, () => attributes);
    try {
      return await fn();
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}
