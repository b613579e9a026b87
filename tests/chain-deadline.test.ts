// Deadline propagation along the chain (reliability matrix D6): a hop forwards the smaller of the
// job's deadline and its own call timeout, so the next hop drops work its caller gave up on
// instead of finishing it for nobody.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { provisioned, startChainHop } from '#devenv/roles.ts';
import { metricValue } from '#devenv/stack.ts';
import type { NatsConnection } from '@nats-io/transport-node';

let server: NatsServerHandle;
let nc: NatsConnection;
const stops: Array<() => Promise<void>> = [];
let b: string;
let c: string;

const hop = (service: 'service-a' | 'service-b' | 'service-c', env: Record<string, string>) => startChainHop(server.url, service, env, stops);

beforeAll(async () => {
  server = await startNatsServer();
  nc = await provisioned(server.url);
  // service-c needs about 1.2 s for a slow.report (300 ms x 4); service-b waits 300 ms for it.
  c = await hop('service-c', { WORK_SCALE: '4' });
  b = await hop('service-b', { SERVICE_C_URL: c, TIMEOUT_SERVICE_C_MS: '300ms', BREAKER_RESET_MS: '60s' });
});
afterAll(async () => {
  while (stops.length) await stops.pop()?.();
  await nc?.close();
  await server?.dispose();
});

it('service-c drops the work service-b gave up on, though the job itself had seconds left', async () => {
  const effects = () => metricValue(c, /^tps_service_effects_total\{service="service-c"\}/);
  const dropped = () => metricValue(c, /^tps_service_rejected_total\{service="service-c",reason="deadline"\}/);
  const before = { effects: await effects(), dropped: await dropped() };
  const res = await fetch(`${b}/work`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'tps-deadline': String(Date.now() + 10_000) },
    body: JSON.stringify({ jobId: 'd6-1', type: 'slow.report', attempt: 1 }),
  });
  const body = (await res.json()) as { code: string; message: string };
  expect(res.status).toBe(502);
  expect(body.message).toMatch(/did not answer in time/);
  // Whichever comes first: service-c finishing the work (wrong) or dropping it (right).
  await waitFor(async () => ((await effects()) > before.effects || (await dropped()) > before.dropped) || undefined, 10_000, () => 'service-c to finish or drop the work');
  expect(await dropped()).toBe(before.dropped + 1);
  expect(await effects()).toBe(before.effects);
});
