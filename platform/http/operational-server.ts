// The HTTP server of a role with no routes of its own (the workers; the autoscaler without the admin
// API): /healthz, /readyz and /metrics on Node's own server, answering as the Fastify kit
// (server.ts) answers them: the same bodies, the catalogue's 404, 405 and 503 SHUTTING_DOWN, the
// same timeouts and connection errors, the same request duration histogram. Why not the kit:
// Fastify and what it loads are about 20 MB of resident memory per process (docs/benchmarks.md)
// for three fixed routes, and the memory of idle roles is one of the goals TPS Lab is held to.
// tests/http-kits.test.ts holds both servers to the same answers.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { histogram, metrics, type MetricsRegistry } from '../metrics.ts';
import { exposition } from '../metrics-exposition.ts';
import { clientErrorHandler } from './framework-errors.ts';
import { createNodeServer, type HttpTimeouts } from './node-server.ts';
import type { ReadinessCheck } from './server.ts';

export type OperationalServerOptions = {
  service: string;
  logger: Logger;
  registry: MetricsRegistry;
  /** Each check is `true` when fine, or a short reason when not. */
  readiness: ReadinessCheck;
  timeouts: HttpTimeouts;
};

/** What runRole needs of an HTTP app: the shape a Fastify instance has too. */
export type OperationalServer = {
  readonly server: Server;
  listen(address: { host: string; port: number }): Promise<void>;
  close(): Promise<void>;
};

type Answer = { status: number; body: string; contentType: string; headers?: Record<string, string> };

const json = (status: number, value: unknown): Answer => ({ status, body: JSON.stringify(value), contentType: 'application/json; charset=utf-8' });
const catalogued = (error: AppError): Answer => ({
  ...json(error.status, error.toJSON()),
  ...(error.retryAfterSeconds !== undefined ? { headers: { 'retry-after': String(error.retryAfterSeconds) } } : {}),
});

// Fastify serves HEAD wherever it serves GET; so does this server, so the 405's Allow is the same.
const allowed = 'GET, HEAD';

type Route = (req: IncomingMessage) => Promise<Answer>;

function routesOf(opts: OperationalServerOptions): Record<string, Route> {
  return {
    '/healthz': async () => json(200, { status: 'ok', service: opts.service }),
    '/readyz': async () => {
      const checks = await opts.readiness();
      const ready = Object.values(checks).every((v) => v === true);
      return json(ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', checks });
    },
    '/metrics': async (req) => {
      const { contentType, text } = await exposition(opts.registry, req.headers.accept);
      return { status: 200, body: text, contentType };
    },
  };
}

/** The answer to one request, and the route it is counted under. */
async function answerTo(req: IncomingMessage, routes: Record<string, Route>, closing: boolean): Promise<{ route: string; answer: Answer }> {
  // A request arriving once closing has begun is refused and ends its connection, as the kit's.
  if (closing) {
    const refusal = catalogued(new AppError('SHUTTING_DOWN', { retryAfterSeconds: 1 }));
    return { route: 'unmatched', answer: { ...refusal, headers: { ...refusal.headers, connection: 'close' } } };
  }
  const path = (req.url ?? '').split('?')[0] ?? '';
  const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
  if (!route) return { route: 'unmatched', answer: catalogued(new AppError('NOT_FOUND', { detail: `${req.method} ${path}` })) };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const refusal = catalogued(new AppError('METHOD_NOT_ALLOWED', { detail: `${req.method} ${path}; allowed: ${allowed}` }));
    return { route: 'unmatched', answer: { ...refusal, headers: { ...refusal.headers, allow: allowed } } };
  }
  return { route: path, answer: await route(req) };
}

export function createOperationalServer(opts: OperationalServerOptions): OperationalServer {
  const duration = histogram(opts.registry, metrics.httpDuration);
  const routes = routesOf(opts);
  let closing = false;
  const send = (req: IncomingMessage, res: ServerResponse, route: string, a: Answer, startedAt: number) => {
    res.on('finish', () => {
      duration.observe({ service: opts.service, route, method: req.method ?? '', code: String(res.statusCode) }, (performance.now() - startedAt) / 1000);
    });
    const headers = { 'content-type': a.contentType, 'content-length': String(Buffer.byteLength(a.body)), ...a.headers };
    res.writeHead(a.status, headers).end(req.method === 'HEAD' ? undefined : a.body);
  };
  const server = createNodeServer((req, res) => {
    const startedAt = performance.now();
    answerTo(req, routes, closing).then(
      ({ route, answer }) => send(req, res, route, answer, startedAt),
      (err: unknown) => {
        opts.logger.error({ err, code: 'INTERNAL', route: req.url }, 'request failed');
        send(req, res, 'unmatched', catalogued(new AppError('INTERNAL', { cause: err })), startedAt);
      },
    );
  }, opts.timeouts);
  server.on('clientError', clientErrorHandler);
  return {
    server,
    listen: ({ host, port }) => new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => { server.off('error', reject); resolve(); });
    }),
    close: () => new Promise<void>((resolve) => {
      closing = true;
      // Open connections with nothing in flight end now; busy ones after their answer.
      server.close(() => resolve());
      server.closeIdleConnections();
    }),
  };
}
