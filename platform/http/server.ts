// The Fastify kit every HTTP role builds on: catalogue errors, JSON-only bodies, /healthz,
// /readyz, /metrics and the request duration histogram. It returns an app that does not listen.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { AppError } from '../errors.ts';
import type { Chaos } from '../chaos/injector.ts';
import { InjectedFault } from '../chaos/injector.ts';
import type { Logger } from '../logger.ts';
import { histogram, metrics, type MetricsRegistry } from '../metrics.ts';
import { errorHandler, sendError } from './errors.ts';
import { registerJsonParser } from './json-body.ts';

export type ReadinessCheck = () => Promise<Record<string, string | true>> | Record<string, string | true>;

export type HttpKitOptions = {
  service: string;
  logger: Logger;
  registry: MetricsRegistry;
  /** Each check is `true` when fine, or a short reason when not. */
  readiness: ReadinessCheck;
  bodyLimit?: number;
  requestTimeoutMs?: number;
  /** Faults aimed at this service act at the entry of every route but the operational ones. */
  chaos?: Chaos;
  /**
   * Answers a request before Fastify sees it, when the answer follows from the method, the URL
   * and cached state alone (the ingress sheds load this way: no routing, hooks or body). Returns
   * the route it answered for, or undefined to hand the request to Fastify.
   */
  preempt?: (req: IncomingMessage, res: ServerResponse) => string | undefined;
};

// Fastify's own keep-alive default; a server we create must be given it explicitly.
const keepAliveTimeoutMs = 72_000;

// Faults never hide the operational routes (an audit reads /effects/duplicates of the chain).
const operationalRoutes = new Set(['/healthz', '/readyz', '/metrics', '/effects/duplicates']);

export function createHttpApp(opts: HttpKitOptions): FastifyInstance {
  const duration = histogram(opts.registry, metrics.httpDuration);
  const preempt = opts.preempt;
  const serverFactory = preempt && ((handler: (req: IncomingMessage, res: ServerResponse) => void) => {
    const server = http.createServer((req, res) => {
      const started = performance.now();
      const route = preempt(req, res);
      if (route === undefined) return handler(req, res);
      duration.observe({ service: opts.service, route, method: req.method ?? 'GET', code: String(res.statusCode) }, (performance.now() - started) / 1000);
    });
    server.keepAliveTimeout = keepAliveTimeoutMs;
    server.requestTimeout = opts.requestTimeoutMs ?? 0;
    return server;
  });
  const app = Fastify({
    ...(serverFactory ? { serverFactory } : {}),
    // pino 10's Logger type is wider than the pino types Fastify bundles; same object at runtime.
    loggerInstance: opts.logger as unknown as FastifyBaseLogger,
    // No line per request: at thousands of requests a second the log would be the bottleneck.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit ?? 64 * 1024,
    requestTimeout: opts.requestTimeoutMs ?? 0,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  registerJsonParser(app);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => sendError(reply, new AppError('NOT_FOUND', { detail: `${request.method} ${request.url}` })));

  const chaos = opts.chaos;
  if (chaos) {
    app.addHook('onRequest', (request, _reply, done) => {
      if (!chaos.armed() || operationalRoutes.has(request.routeOptions.url ?? '')) return done();
      chaos.inbound(Number(request.headers['content-length'] ?? 0)).then(() => done(), (err: unknown) => {
        done(err instanceof InjectedFault ? new AppError('FAULT_INJECTED', { status: err.status, detail: `(${err.message})` }) : (err as Error));
      });
    });
  }

  app.addHook('onResponse', (request, reply, done) => {
    duration.observe(
      { service: opts.service, route: request.routeOptions.url ?? 'unmatched', method: request.method, code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });

  app.get('/healthz', async () => ({ status: 'ok', service: opts.service }));
  app.get('/readyz', async (_request, reply) => {
    const checks = await opts.readiness();
    const ready = Object.values(checks).every((v) => v === true);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });
  app.get('/metrics', async (_request, reply) => {
    reply.type(opts.registry.contentType);
    return opts.registry.metrics();
  });
  return app;
}
