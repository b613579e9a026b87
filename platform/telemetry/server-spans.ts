// The server span of every HTTP request a role's Fastify app routes (platform/http/server.ts),
// made by two hooks of our own instead of the http and @fastify/otel instrumentations: those
// wrapped every request twice (a server span and a Fastify `request` span under it) and cost
// about 90 µs of CPU per job more than this (docs/benchmarks.md#tracing-make-bench-tracing).
// The span continues the caller's trace (W3C traceparent through the global propagator), is named
// by the route (`POST /work`), carries the HTTP attributes of the semantic conventions, and is
// ERROR with `error.type` when the route failed (errorHandler in platform/http/errors.ts). The
// operational routes and requests answered before routing (preempt.ts) have none.
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { recordAttributes } from './spans.ts';
import { tracingOn } from './state.ts';

const tracer = trace.getTracer('tps-lab-http');
/** The request's span lives on the request itself: Fastify declares the property up front so every
 * request keeps one shape (a WeakMap from request to span cost more than the rest of this hook). */
type TracedRequest = FastifyRequest & { tpsServerSpan: Span | null };

/** Called only when this process traces (tracingOn() in state.ts): otherwise no hook is added. */
export function traceServerRequests(app: FastifyInstance, untraced: ReadonlySet<string>): void {
  app.decorateRequest('tpsServerSpan', null);
  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    if (route !== undefined && untraced.has(route)) return done();
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = tracer.startSpan(route === undefined ? request.method : `${request.method} ${route}`, { kind: SpanKind.SERVER }, parent);
    recordAttributes(span, () => {
      const query = request.url.indexOf('?');
      const path = query === -1 ? request.url : request.url.slice(0, query);
      return { 'http.request.method': request.method, 'url.path': path, ...(route === undefined ? {} : { 'http.route': route }) };
    });
    (request as TracedRequest).tpsServerSpan = span;
    // The rest of the request (hooks, handler, error handler) runs with the span active.
    context.with(trace.setSpan(parent, span), done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = (request as TracedRequest).tpsServerSpan;
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      // A 5xx is the server's failure (the conventions); a 4xx is ERROR only when a route said why.
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
}
