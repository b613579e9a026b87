// Internal spans for the steps of a request worth seeing in a trace (the simulated work, a wait
// for a free slot). Only @opentelemetry/api: with tracing off these are the API's no-op spans.
import { SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';

const tracer = trace.getTracer('tps-lab');

/** Runs `fn` inside a span named `name`; a throw marks the span as failed and is rethrown. */
export function inSpan<T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, async (span) => {
    // Attributes once the span is known to record (server-spans.ts says why).
    if (span.isRecording()) span.setAttributes(attributes);
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
