// The answers Fastify and Node give on their own (a connection that times out or overflows its
// headers, a URL the router cannot take, an unknown route, a wrong method, a request during
// shutdown) in the catalogue's `{code, message}` shape like every other error, instead of each
// one's raw form. Every TPS HTTP server (the kit's and the admin API's) uses these.
import { http } from './node-http.ts';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { AppError, type ErrorCode } from '../errors.ts';
import { errorHandler, sendError } from './errors.ts';

/** Errors of a connection before any request reached Fastify, by Node's error code. */
function connectionError(err: NodeJS.ErrnoException): AppError {
  const codes: Record<string, ErrorCode> = { ERR_HTTP_REQUEST_TIMEOUT: 'REQUEST_TIMEOUT', HPE_HEADER_OVERFLOW: 'HEADERS_TOO_LARGE' };
  return new AppError(codes[err.code ?? ''] ?? 'MALFORMED_REQUEST', { cause: err });
}

/** Answers on the bare socket (there is no request to reply through), then closes it as Node does. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const error = connectionError(err);
  const body = JSON.stringify(error.toJSON());
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${error.status} ${http.STATUS_CODES[error.status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

/** Fastify options for every TPS server: its own early answers go through the catalogue. */
export const catalogueOptions = {
  // A bad percent-encoding or an over-long path parameter, found while routing.
  frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => { errorHandler(error, request, reply); },
  clientErrorHandler,
  // Fastify's own 503 while closing has its raw shape; the hook below answers in the catalogue's.
  return503OnClosing: false,
} satisfies Partial<FastifyServerOptions>;

/** A Fastify path (`/jobs/:id`, `/files/*`) as a pattern for concrete paths. */
function pathPattern(url: string): RegExp {
  const segments = url.split('/').map((s) => (s.startsWith(':') ? '[^/]+' : s === '*' ? '.*' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${segments.join('/')}$`);
}

/**
 * The error handler, 404 for an unknown route, 405 (with Allow) for a known route asked with
 * another method, and 503 SHUTTING_DOWN once the server is closing. Call before adding routes.
 */
export function registerCatalogueErrors(app: FastifyInstance): void {
  const routes: Array<{ pattern: RegExp; methods: string[] }> = [];
  app.addHook('onRoute', (route) => {
    routes.push({ pattern: pathPattern(route.url), methods: [route.method].flat().map(String) });
  });
  let closing = false;
  app.addHook('preClose', (done) => { closing = true; done(); });
  app.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done();
    reply.header('connection', 'close');
    return sendError(reply, new AppError('SHUTTING_DOWN', { retryAfterSeconds: 1 }));
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))];
    if (allowed.length === 0) return sendError(reply, new AppError('NOT_FOUND', { detail: `${request.method} ${path}` }));
    reply.header('allow', allowed.join(', '));
    return sendError(reply, new AppError('METHOD_NOT_ALLOWED', { detail: `${request.method} ${path}; allowed: ${allowed.join(', ')}` }));
  });
}
