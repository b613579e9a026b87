// The admin API's bounds: a rate limit per client address that counts refused guesses of the
// token too (429 RATE_LIMITED with Retry-After, before the token is even checked), the request
// timeouts of every TPS server (a slow client is cut off), and catalogue-shaped 404/405 answers.
// Built on a real nats-server with its real DLQ and control stores.
import type { NatsConnection } from '@nats-io/transport-node';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { openChaosStore } from '#platform/chaos/store.ts';
import { controlOperations } from '#platform/control/operations.ts';
import { openControlStore } from '#platform/control/store.ts';
import { openDlqOperations, type DlqOperations } from '#platform/dlq/operations.ts';
import { buildAdminApp } from '#services/admin/app.ts';
import { parameterOperations } from '#platform/params/operations.ts';
import { bearerChecker } from '#services/admin/auth.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { slowClient } from '#devenv/raw-http.ts';
import { provisioned, testConfig } from '#devenv/roles.ts';

const token = 'admin-token-for-limits-test';
let server: NatsServerHandle;
let nc: NatsConnection;
const opened: Array<{ app: FastifyInstance; dlq: DlqOperations }> = [];

beforeAll(async () => {
  server = await startNatsServer();
  nc = await provisioned(server.url);
}, 30_000);
afterEach(async () => {
  for (const { app, dlq } of opened.splice(0)) { await app.close(); dlq.close(); }
});
afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

async function adminApi(env: Record<string, string>): Promise<{ url: string; port: number }> {
  const config = testConfig(server.url, env);
  const dlq = await openDlqOperations(nc);
  const app = await buildAdminApp({
    logger: pino({ level: 'silent' }), authorized: bearerChecker(token), dlq,
    control: controlOperations(nc, await openControlStore(nc), true), params: parameterOperations(nc, await openControlStore(nc)), chaos: await openChaosStore(nc),
    timeouts: config.http, rateLimitPerSecond: config.admin.rateLimitPerSecond,
  });
  opened.push({ app, dlq });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, port };
}

const get = (url: string, auth?: string, headers: Record<string, string> = {}) => fetch(url, { headers: { ...headers, ...(auth ? { authorization: auth } : {}) } });

it('limits each client to ADMIN_RATE_LIMIT_RPS, wrong tokens included, with 429 and Retry-After; X-Forwarded-For changes nothing', async () => {
  const { url } = await adminApi({ ADMIN_RATE_LIMIT_RPS: '5' });
  // Each guess claims another address: with no trusted proxy, the socket's address is the client.
  const guesses = await Promise.all(Array.from({ length: 12 }, (_, i) => get(`${url}/admin/dlq`, `Bearer guess-${i}`, { 'x-forwarded-for': `10.0.0.${i}` })));
  const statuses = guesses.map((r) => r.status).sort();
  expect(statuses).toEqual([...Array(5).fill(401), ...Array(7).fill(429)]);
  const limited = guesses.find((r) => r.status === 429);
  expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(await limited?.json()).toEqual({ code: 'RATE_LIMITED', message: 'Too many requests; retry after the delay in Retry-After.' });
  // The right token does not jump the line: the guesses used up this second.
  expect((await get(`${url}/admin/dlq`, `Bearer ${token}`)).status).toBe(429);
  // Once the window has passed, the operator gets through again.
  await waitFor(async () => ((await get(`${url}/admin/dlq`, `Bearer ${token}`)).status === 200 ? true : undefined), 5_000, () => 'the window to pass');
});

it('answers unknown routes and wrong methods in the catalogue shape', async () => {
  const { url } = await adminApi({});
  const auth = { authorization: `Bearer ${token}` };
  const missing = await fetch(`${url}/admin/nope`, { headers: auth });
  expect([missing.status, await missing.json()]).toEqual([404, { code: 'NOT_FOUND', message: 'No such route. GET /admin/nope' }]);
  const wrong = await fetch(`${url}/admin/dlq`, { method: 'DELETE', headers: auth });
  expect(wrong.status).toBe(405);
  expect(wrong.headers.get('allow')).toBe('GET, HEAD');
  expect(await wrong.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
});

it('closes a connection whose headers come a byte at a time (REQUEST_TIMEOUT_MS / HEADERS_TIMEOUT_MS)', async () => {
  const { port } = await adminApi({ HEADERS_TIMEOUT_MS: '300', REQUEST_TIMEOUT_MS: '600' });
  const answer = await slowClient(port, `GET /admin/dlq HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n`, 'X-Drip: a\r\n').answer;
  expect([answer.status, answer.body?.code]).toEqual([408, 'REQUEST_TIMEOUT']);
  expect(answer.closedAfterMs).toBeLessThan(1_500);
});
