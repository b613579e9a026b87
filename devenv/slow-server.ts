// A real HTTP server that answers POST /jobs with 202 after a fixed delay, and counts what it got
// and how many requests it held at once: the slow ingress the load generator must not slow down for.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type SlowServer = { url: string; received: number; maxConcurrent: number; close(): Promise<void> };

export async function startSlowServer(delayMs: number): Promise<SlowServer> {
  let concurrent = 0;
  const state = { received: 0, maxConcurrent: 0 };
  const server = http.createServer((req, res) => {
    if (req.url === '/readyz') return void res.end('{"status":"ready"}');
    state.received += 1;
    concurrent += 1;
    state.maxConcurrent = Math.max(state.maxConcurrent, concurrent);
    req.resume();
    // The server's own response time, not test synchronisation.
    setTimeout(() => {
      concurrent -= 1;
      res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id: randomUUID(), status: 'accepted' }));
    }, delayMs);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get received() { return state.received; },
    get maxConcurrent() { return state.maxConcurrent; },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
