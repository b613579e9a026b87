// The Node HTTP server under every TPS Fastify app, with every timeout explicit. Fastify's own
// default is no request timeout at all, so a client that sends its headers or its body a byte at
// a time (slowloris, reliability matrix S6) would hold a socket, and the memory behind it, forever.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { http } from './node-http.ts';

/** From the configuration (config.http): REQUEST_TIMEOUT_MS and HEADERS_TIMEOUT_MS. */
export type HttpTimeouts = { readonly requestTimeoutMs: number; readonly headersTimeoutMs: number };

// Fastify's own keep-alive default; a server we create must be given it explicitly.
const keepAliveTimeoutMs = 72_000;

/**
 * Node closes a connection whose headers took longer than `headersTimeoutMs`, or whose whole
 * request (headers and body) took longer than `requestTimeoutMs`, answering 408 (in the
 * catalogue's shape: framework-errors.ts). Once a request has arrived, how long the answer takes
 * is not bounded here.
 */
export function createNodeServer(handler: (req: IncomingMessage, res: ServerResponse) => void, timeouts: HttpTimeouts): Server {
  const server = http.createServer({
    requestTimeout: timeouts.requestTimeoutMs,
    headersTimeout: timeouts.headersTimeoutMs,
    // Node looks for expired requests on a timer, every 30 s by default: a slow client would be
    // held that much longer than the timeout says. A sweep costs one walk over open connections.
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(timeouts.headersTimeoutMs / 2))),
  }, handler);
  server.keepAliveTimeout = keepAliveTimeoutMs;
  sweepIdleWhileClosing(server);
  return server;
}

/** How often a closing server ends the connections that went idle since. */
const closingSweepMs = 50;

/**
 * `server.close()` ends the connections idle at that moment only. One with a request in flight
 * stays open once its answer is sent (keep-alive), and the close waits until the client drops it:
 * a caller's connection pool holds it for the whole keep-alive (72 s), so every stop under traffic
 * took the role's full shutdown grace. While closing, idle connections are ended as they appear; a
 * request already arriving on one is answered (503 SHUTTING_DOWN, with Connection: close).
 */
function sweepIdleWhileClosing(server: Server): void {
  const close = server.close.bind(server);
  server.close = (callback?: (err?: Error) => void) => {
    const sweep = setInterval(() => server.closeIdleConnections(), closingSweepMs);
    sweep.unref();
    server.once('close', () => clearInterval(sweep));
    return close(callback);
  };
}
