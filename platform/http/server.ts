// The Fastify kit every HTTP role builds on: catalogue errors, JSON-only bodies, /healthz,
// /readyz, /metrics and the request duration histogram. It returns an app that does not listen.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
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
  /** Answers some requests before Fastify sees them, from cached state (see Preempt). */
  preempt?: Preempt;
};

/** The body a preempt hook read, handed on to Fastify's parser instead of the spent stream. */
const prereadBody = Symbol('tps.prereadBody');
type PrereadRequest = IncomingMessage & { [prereadBody]?: Buffer };

/**
 * Answers a request before Fastify sees it, when the answer follows from the method, the URL, the
 * headers and cached state (the ingress sheds load this way: no routing, hooks or error machinery).
 * Each step returns the route it answered for, for the duration histogram, or undefined to hand
 * the request to Fastify untouched.
 */
export type Preempt = {
  /** Before the body is read. `'read-body'` asks for `withBody` once the body is in. */
  beforeBody(req: IncomingMessage, res: ServerResponse): string | 'read-body' | undefined;
  /**
   * With the body read, only for a JSON body within the body limit that declares its length;
   * anything else goes to Fastify unread, which answers 413, 415 or 400 as usual. A body this
   * step passes on reaches Fastify's parser as if it had never been read.
   */
  withBody(req: IncomingMessage, res: ServerResponse, body: Buffer): string | undefined;
};

const jsonMediaType = /^application\/json\s*(?:;|$)/i;

/** Whether the preempt hook may read the body itself; anything else is left to Fastify. */
function mayReadBody(req: IncomingMessage, limit: number): boolean {
  if (req.headers['transfer-encoding'] !== undefined || !jsonMediaType.test(req.headers['content-type'] ?? '')) return false;
  const length = Number(req.headers['content-length']);
  return Number.isInteger(length) && length > 0 && length <= limit;
}

// Faults never hide the operational routes (an audit reads /effects/duplicates of the chain).
const operationalRoutes = new Set(['/healthz', '/readyz', '/metrics', '/effects/duplicates']);

export function createHttpApp(opts: HttpKitOptions): FastifyInstance {
  const duration = histogram(opts.registry, metrics.httpDuration);
  const preempt = opts.preempt;
  const bodyLimit = opts.bodyLimit ?? 64 * 1024;
  const serverFactory = (handler: (req: IncomingMessage, res: ServerResponse) => void) => {
    if (!preempt) return createNodeServer(handler, opts.timeouts);
    // Bound once per route, method and status (each a small fixed set: the hook's routes, the
    // methods Node's parser knows), so a preempted answer costs no label-set lookup.
    const bound = new Map<string, Map<string, Map<number, (seconds: number) => void>>>();
    const observerOf = (route: string, method: string, status: number) => {
      let byMethod = bound.get(route);
      if (byMethod === undefined) bound.set(route, (byMethod = new Map()));
      let byStatus = byMethod.get(method);
      if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()));
      let observe = byStatus.get(status);
      if (observe === undefined) byStatus.set(status, (observe = duration.bind({ service: opts.service, route, method, code: String(status) })));
      return observe;
    };
    const answered = (req: IncomingMessage, res: ServerResponse, route: string, started: number) =>
      observerOf(route, req.method ?? 'GET', res.statusCode)((performance.now() - started) / 1000);
    return createNodeServer((req, res) => {
      const started = performance.now();
      const route = preempt.beforeBody(req, res);
      if (route === undefined) return handler(req, res);
      if (route !== 'read-body') return answered(req, res, route, started);
      if (!mayReadBody(req, bodyLimit)) return handler(req, res);
      const chunks: Buffer[] = [];
      // A client that goes away mid-body leaves nothing to answer; the socket is already closed.
      req.on('error', () => {});
      // 'readable' rather than 'data' + 'end': a small body has arrived whole by the first event
      // (`complete`), so it is decided one turn earlier, with less stream machinery per refusal.
      const onReadable = () => {
        for (let chunk: Buffer | null; (chunk = req.read() as Buffer | null) !== null;) chunks.push(chunk);
        if (!req.complete) return;
        req.off('readable', onReadable);
        const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
        const bodyRoute = preempt.withBody(req, res, body);
        if (bodyRoute !== undefined) return answered(req, res, bodyRoute, started);
        (req as PrereadRequest)[prereadBody] = body;
        handler(req, res);
      };
      req.on('readable', onReadable);
    }, opts.timeouts);
  };
  const app = Fastify({
    ...catalogueOptions,
    serverFactory,
    // pino 10's Logger type is wider than the pino types Fastify bundles; same object at runtime.
    loggerInstance: opts.logger as unknown as FastifyBaseLogger,
    // No line per request: at thousands of requests a second the log would be the bottleneck.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    forceCloseConnections: 'idle',
  });
  registerCatalogueErrors(app);
  registerJsonParser(app);
  if (preempt) {
    app.addHook('preParsing', (request, _reply, payload, done) => {
      const body = (request.raw as PrereadRequest)[prereadBody];
      if (body === undefined) return done(null, payload);
      const replay = new PassThrough();
      replay.end(body);
      done(null, replay);
    });
  }

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
  app.get('/metrics', async (request, reply) => {
    const { contentType, text } = await exposition(opts.registry, request.headers.accept);
    return reply.type(contentType).send(text);
  });
  return app;
}
