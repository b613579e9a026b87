// The autoscaler says whether it is on from its start, not from its first tick: until that tick
// (5 s by default) its gauge read 0, which `tps status`, the console and Grafana showed as
// "OFF (manual)" after every `make up`, the autoscaler being on.
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { provisioned, startTestRole, testConfig } from '#devenv/roles.ts';
import { metricValue } from '#devenv/stack.ts';
import { openControlStore } from '#platform/control/store.ts';

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
