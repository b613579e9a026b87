// Every error answer of a TPS HTTP server has the catalogue's {code, message} shape, including
// the ones Fastify and Node give on their own (unknown route, wrong method, over-long URL, bad
// encoding, oversized headers, garbage), and a client that sends its request a byte at a time
// (slowloris, reliability matrix S6) is cut off by the timeouts while others are served. The
// answers of a server that is closing are in http-kits.test.ts, for both kinds of server.
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalogue } from '#platform/errors.ts';
import { startNatsServer, type NatsServerHandle } from '#devenv/nats-server.ts';
import { rawRequest, slowClient } from '#devenv/raw-http.ts';
import { postJob, provisioned, startTestRole, testConfig } from '#devenv/roles.ts';

// Short timeouts so the test is quick; the defaults (3 s headers, 5 s request) work the same way.
const timeouts = { HEADERS_TIMEOUT_MS: '500', REQUEST_TIMEOUT_MS: '1000' };
// Room for every job the normal traffic submits while slow clients are held (nothing consumes them).
const env = { ...timeouts, FAST_QUEUE_CAPACITY: '100000' };
let server: NatsServerHandle;
let nc: NatsConnection;
let base: string;
let port: number;
let stop: () => Promise<void>;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await provisioned(server.url, env);
  const role = await startTestRole('ingress', testConfig(server.url, env));
  stop = role.stop;
  port = role.result;
  base = `http://127.0.0.1:${port}`;
}, 30_000);
afterAll(async () => {
  await stop?.();
  await nc?.close();
  await server?.dispose();
});

function expectCatalogued(status: number, body: unknown, code: keyof typeof errorCatalogue): void {
  expect({ status, code: (body as { code?: string } | undefined)?.code }).toEqual({ status: errorCatalogue[code].status, code });
  expect(Object.keys(body as object).sort()).toEqual(['code', 'message']);
}

describe('answers of Fastify and Node, in the catalogue shape', () => {
  it.each([
    ['an unknown route', 'GET', '/nope', 'NOT_FOUND', undefined],
    ['a known route with another method', 'DELETE', '/jobs', 'METHOD_NOT_ALLOWED', 'POST'],
    ['a parameterised route with another method', 'PUT', '/jobs/abc', 'METHOD_NOT_ALLOWED', 'GET, HEAD'],
    ['a path parameter over 100 characters', 'GET', `/jobs/${'a'.repeat(200)}`, 'URL_TOO_LONG', undefined],
    ['a bad percent-encoding', 'GET', '/jobs/%E0%A4%A', 'MALFORMED_REQUEST', undefined],
  ] as const)('%s: %s %s', async (_name, method, path, code, allow) => {
    const res = await fetch(`${base}${path}`, { method });
    expectCatalogued(res.status, await res.json(), code);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    if (allow) expect(res.headers.get('allow')).toBe(allow);
  });

  it('malformed JSON', async () => {
    const res = await fetch(`${base}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":' });
    expectCatalogued(res.status, await res.json(), 'INVALID_JSON');
  });

  it('headers larger than Node accepts (16 KB): 431', async () => {
    const answer = await rawRequest(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
    expectCatalogued(answer.status, answer.body, 'HEADERS_TOO_LARGE');
  });

  it('a request line that is not HTTP: 400', async () => {
    const answer = await rawRequest(port, 'HELLO THERE\r\n\r\n');
    expectCatalogued(answer.status, answer.body, 'MALFORMED_REQUEST');
  });
});

describe('slow clients (S6)', () => {
  /** Normal requests while the slow ones are held: each must be served, and quickly. */
  async function servedMeanwhile(until: Promise<unknown>): Promise<number[]> {
    const latencies: number[] = [];
    let done = false;
    void until.finally(() => { done = true; });
    while (!done) {
      const started = performance.now();
      expect((await postJob(base, { type: 'fast.echo' })).status).toBe(202);
      latencies.push(performance.now() - started);
    }
    return latencies;
  }

  it('closes connections whose headers come a byte at a time, and serves normal requests meanwhile', async () => {
    const slow = Array.from({ length: 20 }, () => slowClient(port, 'POST /jobs HTTP/1.1\r\nHost: x\r\n', 'X-Drip: aaaa\r\n'));
    const all = Promise.all(slow.map((s) => s.answer));
    const latencies = await servedMeanwhile(all);
    const answers = await all;
    for (const a of answers) expectCatalogued(a.status, a.body, 'REQUEST_TIMEOUT');
    const held = answers.map((a) => a.closedAfterMs);
    // Closed after HEADERS_TIMEOUT_MS, within Node's sweep interval (half of it, here 250 ms).
    expect(Math.min(...held)).toBeGreaterThanOrEqual(450);
    expect(Math.max(...held)).toBeLessThan(2_000);
    expect(latencies.length).toBeGreaterThan(0);
    console.log(`S6 headers: 20 slow sockets closed after ${Math.round(Math.min(...held))}-${Math.round(Math.max(...held))} ms; ${latencies.length} normal requests served meanwhile, slowest ${Math.round(Math.max(...latencies))} ms`);
  });

  it('closes a connection whose body comes a byte at a time, by the request timeout', async () => {
    const head = 'POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"type":"fast.echo","payload":{"pad":"';
    const slow = Array.from({ length: 20 }, () => slowClient(port, head, 'a'));
    const all = Promise.all(slow.map((s) => s.answer));
    const latencies = await servedMeanwhile(all);
    const answers = await all;
    for (const a of answers) expectCatalogued(a.status, a.body, 'REQUEST_TIMEOUT');
    const held = answers.map((a) => a.closedAfterMs);
    expect(Math.min(...held)).toBeGreaterThanOrEqual(950);
    expect(Math.max(...held)).toBeLessThan(2_500);
    console.log(`S6 body: 20 slow sockets closed after ${Math.round(Math.min(...held))}-${Math.round(Math.max(...held))} ms; ${latencies.length} normal requests served meanwhile, slowest ${Math.round(Math.max(...latencies))} ms`);
  });
});
