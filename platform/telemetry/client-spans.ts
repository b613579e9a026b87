// The client span of a call from one role to the next (platform/http/downstream.ts), made here
// instead of by the undici instrumentation, which derived much more per request from undici's
// diagnostics channels than a trace of ours shows. The span is a child of the active span (the
// worker's `process`, a service's `POST /work`; no parent, no span), carries the next hop's
// `traceparent`, the HTTP attributes of the semantic conventions, and is ERROR on a 4xx or 5xx
// answer or a failed exchange. With tracing off the call goes out as it is.
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { recordAttributes } from './spans.ts';
import { tracingOn } from './state.ts';

const tracer = trace.getTracer('tps-lab-http');

export async function inClientSpan<T extends { status: number }>(
  method: string, target: URL, path: string, headers: Record<string, string>, exchange: (headers: Record<string, string>) => Promise<T>,
): Promise<T> {
  const parent = context.active();
  if (!tracingOn() || !trace.getSpan(parent)) return exchange(headers);
  const span = tracer.startSpan(method, { kind: SpanKind.CLIENT }, parent);
  recordAttributes(span, () => ({
    'http.request.method': method, 'url.full': `${target.origin}${path}`, 'url.path': path,
    'server.address': target.hostname, 'server.port': Number(target.port || 80),
  }));
  const carried = { ...headers };
  propagation.inject(trace.setSpan(parent, span), carried);
  try {
    const answer = await exchange(carried);
    span.setAttribute('http.response.status_code', answer.status);
    if (answer.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
    return answer;
  } catch (err) {
    span.setAttribute('error.type', (err as Error).name);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
}
