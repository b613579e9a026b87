// The two HTTP servers a role can have answer /healthz, /readyz and /metrics alike: the Fastify
// kit (platform/http/server.ts, roles with routes of their own) and Node's own server
// (platform/http/operational-server.ts, the workers and the autoscaler, which Fastify's memory is
// not worth). Same bodies and types, the catalogue's errors, the slow-client timeouts, the request
// duration histogram, and the 503 of a server that is closing; each case runs against both.
import net from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalogue } from '#platform/errors.ts';
import { createOperationalServer } from '#platform/http/operational-server.ts';
import { createHttpApp } from '#platform/http/server.ts';
import { createRegistry, type MetricsRegistry } from '#platform/metrics.ts';
import { waitFor } from '#devenv/nats-server.ts';
import { rawRequest, slowClient } from '#devenv/raw-http.ts';

type Kit = { listen(a: { host: string; port: number }): Promise<unknown>; close(): Promise<unknown>; readonly server: net.Server };
type Readiness = () => Promise<Record<string, string | true>>;
const timeouts = { headersTimeoutMs: 300, requestTimeoutMs: 600 };
const kits: Record<string, (registry: MetricsRegistry, readiness: Readiness) => Kit> = {
  'Fastify kit': (registry, readiness) => createHttpApp({ service: 'kit', logger: pino({ level: 'silent' }), registry, readiness, timeouts }),
  "Node's server": (registry, readiness) => createOperationalServer({ service: 'kit', logger: pino({ level: 'silent' }), registry, readiness, timeouts }),
};

async function started(kit: Kit): Promise<{ port: number; base: string }> {
  await kit.listen({ host: '127.0.0.1', port: 0 });
  const port = (kit.server.address() as net.AddressInfo).port;
  return { port, base: `http://127.0.0.1:${port}` };
}

function expectCatalogued(status: number, body: unknown, code: keyof typeof errorCatalogue): void {
  expect({ status, code: (body as { code?: string } | undefined)?.code }).toEqual({ status: errorCatalogue[code].status, code });
  expect(Object.keys(body as object).sort()).toEqual(['code', 'message']);
}

describe.each(Object.keys(kits))('%s', (name) => {
  let kit: Kit;
  let base: string;
  let ready: Record<string, string | true> = { nats: true };
  const registry = createRegistry({ defaults: false });
  beforeAll(async () => {
    kit = kits[name]!(registry, async () => ready);
    ({ base } = await started(kit));
  });
  afterAll(() => kit?.close());

  it('/healthz and /readyz: status, body and type', async () => {
    const health = await fetch(`${base}/healthz`);
    expect([health.status, health.headers.get('content-type'), await health.json()]).toEqual([200, 'application/json; charset=utf-8', { status: 'ok', service: 'kit' }]);
    ready = { nats: true };
    const yes = await fetch(`${base}/readyz`);
    expect([yes.status, await yes.json()]).toEqual([200, { status: 'ready', checks: { nats: true } }]);
    ready = { nats: 'not connected to NATS' };
    const no = await fetch(`${base}/readyz`);
    expect([no.status, await no.json()]).toEqual([503, { status: 'not_ready', checks: { nats: 'not connected to NATS' } }]);
  });

  it('HEAD answers as GET without a body', async () => {
    const head = await fetch(`${base}/healthz`, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-type'), await head.text()]).toEqual([200, 'application/json; charset=utf-8', '']);
  });

  it('/metrics: Prometheus text, OpenMetrics to a scraper asking for it, and the request durations', async () => {
    const text = await fetch(`${base}/metrics`);
    expect(text.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await text.text()).toMatch(/^tps_http_request_duration_seconds_count\{service="kit",route="\/healthz",method="GET",code="200"\} [1-9]/m);
    const open = await fetch(`${base}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(open.headers.get('content-type')).toMatch(/^application\/openmetrics-text/);
    expect(await open.text()).toMatch(/^# EOF$/m);
  });

  it.each([
    ['an unknown route', 'GET', '/nope', 'NOT_FOUND', undefined],
    ['a known route with another method', 'POST', '/metrics', 'METHOD_NOT_ALLOWED', 'GET, HEAD'],
  ] as const)('%s: %s %s', async (_case, method, path, code, allow) => {
    const res = await fetch(`${base}${path}`, { method });
    expectCatalogued(res.status, await res.json(), code);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('allow')).toBe(allow ?? null);
  });
});

describe.each(Object.keys(kits))('%s, bad and slow clients', (name) => {
  let kit: Kit;
  let port: number;
  beforeAll(async () => {
    kit = kits[name]!(createRegistry({ defaults: false }), async () => ({ nats: true }));
    ({ port } = await started(kit));
  });
  afterAll(() => kit?.close());

  it('headers over 16 KB: 431; a request line that is not HTTP: 400', async () => {
    const big = await rawRequest(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
    expectCatalogued(big.status, big.body, 'HEADERS_TOO_LARGE');
    const garbage = await rawRequest(port, 'HELLO THERE\r\n\r\n');
    expectCatalogued(garbage.status, garbage.body, 'MALFORMED_REQUEST');
  });

  it('closes a connection whose headers come a byte at a time (S6)', async () => {
    const slow = slowClient(port, 'GET /healthz HTTP/1.1\r\n', 'X-Drip: a\r\n', 10_000, 50);
    const answer = await slow.answer;
    slow.stop();
    expectCatalogued(answer.status, answer.body, 'REQUEST_TIMEOUT');
  });
});


/**
 * A kit whose /readyz is held in flight on a raw keep-alive connection, then closed: `closing`
 * resolves once the server has stopped accepting, `release` lets the held answer go.
 */
async function closingWithRequestInFlight(name: string) {
  let release = () => {};
  let entered = false;
  // A readiness check that waits holds a request in flight, as a slow route would.
  const kit = kits[name]!(createRegistry({ defaults: false }), async () => {
    entered = true;
    await new Promise<void>((resolve) => { release = resolve; });
    return { nats: true };
  });
  const { port, base } = await started(kit);
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (d: Buffer) => { text += d.toString(); });
  const ended = new Promise((resolve) => socket.on('close', resolve));
  socket.write('GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
  await waitFor(() => entered, 5_000, () => 'the held request to reach its handler');
  const closed = kit.close();
  await waitFor(async () => ((await fetch(`${base}/healthz`).then(() => false, () => true)) ? true : undefined), 5_000, () => 'the server to stop accepting');
  return { socket, release: () => release(), ended: Promise.all([closed, ended]), text: () => text };
}

describe.each(Object.keys(kits))('%s, closing', (name) => {
  it('answers a request still arriving on an open connection with 503 SHUTTING_DOWN', async () => {
    const held = await closingWithRequestInFlight(name);
    held.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    held.release();
    await held.ended;
    const [first, second] = held.text().split(/(?=HTTP\/1\.1 )/);
    expect(first).toMatch(/^HTTP\/1\.1 200 /);
    expect(second).toMatch(/^HTTP\/1\.1 503 [^]*connection: close/i);
    expect(second).toMatch(/retry-after: 1/i);
    expectCatalogued(503, JSON.parse(second?.slice(second.indexOf('\r\n\r\n') + 4) ?? ''), 'SHUTTING_DOWN');
  });

  // Node keeps a keep-alive connection open after server.close() once its answer is sent, and the
  // close waits for the client to drop it: a caller with a pool holds it for the whole keep-alive
  // (72 s), so every stop under traffic took the role's whole shutdown grace (10 s).
  it('ends the connection of a request in flight when closing began once it is answered, and closes then', async () => {
    const held = await closingWithRequestInFlight(name);
    held.release();
    // Neither side does anything more: the server must end the connection, and its close resolve.
    await held.ended;
    expect(held.text()).toMatch(/^HTTP\/1\.1 200 /);
  }, 15_000);
});
