// One hop of the service chain over real HTTP: deadlines, the concurrency limit, breakers to the
// next hop, payload validation and duplicate side effects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openChaosStore, type ChaosStore } from '#platform/chaos/store.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { provisioned, startChainHop } from '#devenv/roles.ts';
import { metricValue } from '#devenv/stack.ts';
import type { NatsConnection } from '@nats-io/transport-node';

let server: NatsServerHandle;
let nc: NatsConnection;
let chaos: ChaosStore;
const stops: Array<() => Promise<void>> = [];
let c: string;
let b: string;
let a: string;

const hop = (service: 'service-a' | 'service-b' | 'service-c', env: Record<string, string>) => startChainHop(server.url, service, env, stops);

beforeAll(async () => {
  server = await startNatsServer();
  nc = await provisioned(server.url);
  chaos = await openChaosStore(nc);
  c = await hop('service-c', { CHAIN_CONCURRENCY: '1', CHAIN_QUEUE: '0', WORK_SCALE: '0.5' });
  b = await hop('service-b', { SERVICE_C_URL: c, BREAKER_RESET_MS: '60s' });
  a = await hop('service-a', { SERVICE_B_URL: b });
});
afterAll(async () => {
  while (stops.length) await stops.pop()?.();
  await nc?.close();
  await server?.dispose();
});

function work(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return fetch(`${url}/work`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'tps-deadline': String(Date.now() + 5_000), ...headers },
    body: JSON.stringify({ attempt: 1, ...body }),
  }).then(async (r) => ({ status: r.status, json: (await r.json()) as Record<string, unknown> }));
}

describe('a hop', () => {
  it('does its work and calls the next hop, reporting the path', async () => {
    const r = await work(a, { jobId: 'j-1', type: 'slow.report' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ service: 'service-a', next: { service: 'service-b', next: { service: 'service-c' } } });
  });

  it('refuses work whose deadline has passed, without doing it', async () => {
    const before = await metricValue(c, /^tps_service_effects_total\{service="service-c"\}/);
    const r = await work(c, { jobId: 'j-late', type: 'slow.report' }, { 'tps-deadline': String(Date.now() - 1) });
    expect(r.status).toBe(504);
    expect(r.json.code).toBe('DEADLINE_EXCEEDED');
    expect(await metricValue(c, /^tps_service_effects_total\{service="service-c"\}/)).toBe(before);
    expect(await metricValue(c, /^tps_service_rejected_total\{service="service-c",reason="deadline"\}/)).toBe(1);
  });

  it('answers 503 OVERLOADED beyond its concurrency limit and wait queue', async () => {
    const answers = await Promise.all([1, 2, 3].map((i) => work(c, { jobId: `j-busy-${i}`, type: 'slow.report' })));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 503, 503]);
    expect(answers.find((r) => r.status === 503)?.json.code).toBe('OVERLOADED');
  });

  it('validates the payload at the entry of the chain (422 is a permanent failure)', async () => {
    const r = await work(a, { jobId: 'j-poison', type: 'slow.report', payload: { rows: 'many' } });
    expect(r.status).toBe(422);
    expect(r.json.code).toBe('INVALID_PAYLOAD');
  });

  it('counts a second side effect for the same Idempotency-Key as a duplicate', async () => {
    await work(c, { jobId: 'j-dup', type: 'slow.report' }, { 'idempotency-key': 'j-dup' });
    await work(c, { jobId: 'j-dup', type: 'slow.report' }, { 'idempotency-key': 'j-dup' });
    expect(await metricValue(c, /^tps_service_duplicates_total\{service="service-c"\}/)).toBe(1);
  });
});

describe('a failing next hop', () => {
  it('is reported as a downstream failure, then the breaker to it opens and answers at once', async () => {
    await chaos.set({ target: 'service-c', fault: 'error_rate', params: { ratio: 1 }, durationMs: 60_000 }, 'test');
    try {
      await waitFor(async () => ((await work(c, { jobId: 'probe', type: 'slow.report' })).status === 500 ? true : undefined), 5_000);
      const first = await work(b, { jobId: 'j-f', type: 'slow.report' });
      expect(first.status).toBe(502);
      expect(first.json.code).toBe('DOWNSTREAM_FAILED');
      for (let i = 0; i < 12; i++) await work(b, { jobId: `j-f${i}`, type: 'slow.report' });
      const open = await work(b, { jobId: 'j-open', type: 'slow.report' });
      expect(open.status).toBe(503);
      expect(open.json.code).toBe('CIRCUIT_OPEN');
      expect(await metricValue(b, /^tps_circuit_state\{circuit="service-b->service-c"\}/)).toBe(2);
      // Containment: service-a's breaker to service-b does not count service-c's failures.
      for (let i = 0; i < 12; i++) await work(a, { jobId: `j-a${i}`, type: 'slow.report' });
      expect(await metricValue(a, /^tps_circuit_state\{circuit="service-a->service-b"\}/)).toBe(0);
      expect((await work(a, { jobId: 'j-lookup', type: 'fast.lookup' })).status).toBe(200);
    } finally {
      await chaos.reset('test');
    }
  });
});
