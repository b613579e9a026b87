// The floor of the ingress benchmark's refusals: a server that answers every POST with the same
// constant 503 and does nothing else, no NATS, no metrics. `--fastify` does it in a bare Fastify
// route; the default does it with node:http alone, the cheapest an HTTP refusal can be in Node.
import http from 'node:http';
import Fastify from 'fastify';
import { loadConfig } from '#platform/config.ts';

const config = loadConfig();
const text = '{"code":"QUEUE_FULL","message":"The queue is full; retry after the delay in Retry-After."}';
const ready = '{"ok":true}';

if (process.argv.includes('--fastify')) {
  const app = Fastify();
  app.get('/readyz', async () => ({ ok: true }));
  app.post('/jobs', async (_request, reply) => reply.code(503).header('retry-after', '1').type('application/json; charset=utf-8').send(text));
  await app.listen({ host: '127.0.0.1', port: config.http.port ?? 0 });
  process.once('SIGTERM', () => { void app.close(); });
} else {
  const headers = ['content-type', 'application/json; charset=utf-8', 'content-length', String(Buffer.byteLength(text)), 'retry-after', '1'];
  const server = http.createServer((req, res) => {
    if (req.method === 'GET') return res.writeHead(200, { 'content-type': 'application/json' }).end(ready);
    res.writeHead(503, headers);
    // A string goes out with the headers in one write (a Buffer would be a writev of two).
    res.end(text);
  });
  // Fastify's keep-alive default, as the ingress has it.
  server.keepAliveTimeout = 72_000;
  server.listen(config.http.port ?? 0, '127.0.0.1');
  process.once('SIGTERM', () => { server.close(); server.closeAllConnections(); });
}
