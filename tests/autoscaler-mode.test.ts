// The autoscaler says whether it is on, and the slots it holds, from its start, not from its first
// tick: until that tick (5 s by default) its gauges read 0 and nothing, which `tps status`, the
// console and Grafana showed as "OFF (manual)" and "wants - slots" after every `make up`.
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { provisioned, startTestRole, testConfig } from '#devenv/roles.ts';
import { metricValue } from '#devenv/stack.ts';
import { openControlStore } from '#platform/control/store.ts';
import { poolDefinitions } from '#platform/pools.ts';

let server: NatsServerHandle;
let nc: NatsConnection;
const stops: Array<() => Promise<void>> = [];
beforeAll(async () => {
  server = await startNatsServer();
  nc = await provisioned(server.url);
});
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});
afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

it('shows itself on from its start (AUTOSCALER_ENABLED, the default), before its first tick', async () => {
  const role = await startTestRole('autoscaler', testConfig(server.url, { AUTOSCALER_TICK_MS: '10m' }));
  stops.push(role.stop);
  const url = `http://127.0.0.1:${role.result}`;
  await waitFor(async () => ((await metricValue(url, /^tps_autoscaler_enabled /)) === 1 ? true : undefined), 5_000, () => 'tps_autoscaler_enabled 1');
  expect(await (await openControlStore(nc)).autoscalerStatus(), 'no tick has run yet').toBeUndefined();
});

it('shows the slots it holds from its start: those set in tps_control, else those the workers start with', async () => {
  const control = await openControlStore(nc);
  await control.setSlots('slow', 5, { by: 'test', at: new Date().toISOString(), reason: 'set by hand' });
  const role = await startTestRole('autoscaler', testConfig(server.url, { AUTOSCALER_TICK_MS: '10m' }));
  stops.push(role.stop);
  const url = `http://127.0.0.1:${role.result}`;
  const desired = (pool: string) => metricValue(url, new RegExp(`^tps_autoscaler_desired_slots\\{pool="${pool}"\\} `));
  await waitFor(async () => ((await desired('slow')) === 5 ? true : undefined), 5_000, () => 'tps_autoscaler_desired_slots{pool="slow"} 5');
  expect(await desired('fast')).toBe(poolDefinitions.fast.slots.initial);
  expect(await control.autoscalerStatus(), 'no tick has run yet').toBeUndefined();
});
