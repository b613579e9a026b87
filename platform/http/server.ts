// The Fastify kit every HTTP role builds on: catalogue errors, JSON-only bodies, /healthz,
// /readyz, /metrics and the request duration histogram. It returns an app that does not listen.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { AppError } from '../errors.ts';
import type { Chaos } from '../chaos/injector.ts';
import { InjectedFault } from '../chaos/injector.ts';
import type { Logger } from '../logger.ts';
import { histogram, metrics, type MetricsRegistry } from '../metrics.ts';
import { exposition } from '../metrics-exposition.ts';
import { catalogueOptions, registerCatalogueErrors } from './framework-errors.ts';
import { registerJsonParser } from './json-body.ts';
import { createNodeServer, type HttpTimeouts } from './node-server.ts';
import { handOnPrereadBodies, preempting, type Preempt } from './preempt.ts';
import { traceServerRequests } from '../telemetry/server-spans.ts';
import { tracingOn } from '../telemetry/state.ts';

export type { Preempt };

export type ReadinessCheck = () => Promise<Record<string, string | true>> | Record<string, string | true>;

export type HttpKitOptions = {
  service: string;
  logger: Logger;
  registry: MetricsRegistry;
  /** Each check is `true` when fine, or a short reason when not. */
  readiness: ReadinessCheck;
  bodyLimit?: number;
  /** No default: every server must bound how long a client may take to send a request. */
  timeouts: HttpTimeouts;
  /** Faults aimed at this service act at the entry of every route but the operational ones. */
  chaos?: Chaos;
  /** Answers some requests before Fastify sees them, from cached state (preempt.ts). */
  preempt?: Preempt;
};

// Faults never hide the operational routes (an audit reads /effects/duplicates of the chain).
const operationalRoutes = new Set(['/healthz', '/readyz', '/metrics', '/effects/duplicates']);
/** Probes and scrapes are not part of any job: no spans for them. */
const untracedRoutes = new Set(['/healthz', '/readyz', '/metrics']);

export function createHttpApp(opts: HttpKitOptions): FastifyInstance {
  const duration = histogram(opts.registry, metrics.httpDuration);
  const bodyLimit = opts.bodyLimit ?? 64 * 1024;
  const preempt = opts.preempt;
  const app = Fastify({
    ...catalogueOptions,
    serverFactory: (handler) => createNodeServer(preempt ? preempting(handler, preempt, { service: opts.service, bodyLimit, duration }) : handler, opts.timeouts),
    // pino 10's Logger type is wider than the pino types Fastify bundles; same object at runtime.
    loggerInstance: opts.logger as unknown as FastifyBaseLogger,
    // No line per request: at thousands of requests a second the log would be the bottleneck.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    forceCloseConnections: 'idle',
  });
  if (tracingOn()) traceServerRequests(app, untracedRoutes);
  registerCatalogueErrors(app);
  registerJsonParser(app);
  if (preempt) handOnPrereadBodies(app);
  if (opts.chaos) injectFaultsAtEntry(app, opts.chaos);
  app.addHook('onResponse', (request, reply, done) => {
    duration.observe(
      { service: opts.service, route: request.routeOptions.url ?? 'unmatched', method: request.method, code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
  registerOperationalRoutes(app, opts);
  return app;
}

function injectFaultsAtEntry(app: FastifyInstance, chaos: Chaos): void {
  app.addHook('onRequest', (request, _reply, done) => {
    if (!chaos.armed() || operationalRoutes.has(request.routeOptions.url ?? '')) return done();
    chaos.inbound(Number(request.headers['content-length'] ?? 0)).then(() => done(), (err: unknown) => {
      done(err instanceof InjectedFault ? new AppError('FAULT_INJECTED', { status: err.status, detail: `(${err.message})` }) : (err as Error));
    });
  });
}

/** /healthz (the process runs), /readyz (every readiness check passes) and /metrics. */
function registerOperationalRoutes(app: FastifyInstance, opts: HttpKitOptions): void {
  app.get('/healthz', async () => ({ status: 'ok', service: opts.service }));
  app.get('/readyz', async (_request, reply) => {
    const checks = await opts.readiness();
    const ready = Object.values(checks).every((v) => v === true);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });
  app.get('/metrics', async (request, reply) => {
    const { contentType, text } = await exposition(opts.registry, request.headers.accept);
    return reply.type(contentType).send(text);
  });
}
