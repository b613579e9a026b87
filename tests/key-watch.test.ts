// The control store's watches against a real nats-server (platform/control/key-watch.ts): the keys
// of one family share one watcher on the broker; each watch still gets its key's value when it
// starts (however late it starts), every later value and a deletion, and nothing of its
// neighbours'; stopping one leaves the others; after the family's last stop a watch opens it
// again. The `autoscaler.` keys keep a watcher each.
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { provisioned } from '#devenv/roles.ts';
import { controlKeys } from '#platform/control/keys.ts';
import { openControlStore, type ControlStore } from '#platform/control/store.ts';
import { parameterValue } from '#platform/params/catalogue.ts';
import { buckets } from '#platform/nats/subjects.ts';

let server: NatsServerHandle;
let nc: NatsConnection;
let jsm: JetStreamManager;
let control: ControlStore;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await provisioned(server.url);
  jsm = await jetstreamManager(nc);
  control = await openControlStore(nc);
});
afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

const change = { by: 'key-watch test', at: new Date().toISOString() };
/** The filters of the control bucket's consumers: its watchers on the broker. */
async function watchers(): Promise<string[]> {
  const filters: string[] = [];
  for await (const c of jsm.consumers.list(`KV_${buckets.control}`)) filters.push(c.config.filter_subject ?? '');
  return filters.sort();
}
/** A watch of a parameter's key that keeps what it is given, in order (null: deleted). */
async function follow(name: 'breaker.volume' | 'breaker.reset-ms' | 'timeout.service-c') {
  const seen: Array<number | null> = [];
  const stop = await control.watch(controlKeys.parameter(name), parameterValue, (v) => { seen.push(v ? v.value : null); });
  return { seen, stop };
}

it('shares one watcher per family; each key gets its value at the start, every change and its deletion, and none of its neighbours', async () => {
  await control.setParameter('breaker.volume', 7, change);
  const volume = await follow('breaker.volume');
  const reset = await follow('breaker.reset-ms');
  await waitFor(async () => (volume.seen.length > 0 ? true : undefined), 5_000, () => 'the value set before the watch started');
  // A watch started once the family's watcher has delivered everything gets the key's value too.
  const late = await follow('breaker.volume');
  expect(late.seen).toEqual([7]);
  expect(await watchers()).toEqual([`$KV.${buckets.control}.param.>`]);

  await control.setParameter('breaker.reset-ms', 9000, change);
  await control.setParameter('breaker.volume', 12, change);
  await control.setParameter('breaker.volume', undefined, change);
  await waitFor(async () => (volume.seen.length === 3 ? true : undefined), 5_000, () => `three values of breaker.volume; seen ${JSON.stringify(volume.seen)}`);
  await waitFor(async () => (late.seen.length === 3 ? true : undefined), 5_000, () => `three values for the late watch; seen ${JSON.stringify(late.seen)}`);
  expect(volume.seen).toEqual([7, 12, null]);
  expect(late.seen).toEqual([7, 12, null]);
  await waitFor(async () => (reset.seen.length === 1 ? true : undefined), 5_000, () => 'breaker.reset-ms set');
  expect(reset.seen).toEqual([9000]);

  // One watch stopped, the others of its key and family go on.
  volume.stop();
  await control.setParameter('breaker.volume', 20, change);
  await waitFor(async () => (late.seen.length === 4 ? true : undefined), 5_000, () => 'the late watch to see 20');
  expect(volume.seen).toEqual([7, 12, null]);
  late.stop();
  reset.stop();
  // After the family's last stop (its watcher stopped), a new watch opens it again.
  const again = await follow('breaker.volume');
  await waitFor(async () => (again.seen.length === 1 ? true : undefined), 5_000, () => 'the value after the family reopened');
  expect(again.seen).toEqual([20]);
  again.stop();
});

it('keeps a watcher for each autoscaler key, which the autoscaler rewrites at every tick', async () => {
  const before = (await watchers()).length;
  const stops = [
    await control.watch(controlKeys.autoscalerEnabled, z.unknown(), () => {}),
    await control.watch(controlKeys.autoscalerStatus, z.unknown(), () => {}),
  ];
  const filters = await watchers();
  expect(filters).toContain(`$KV.${buckets.control}.${controlKeys.autoscalerEnabled}`);
  expect(filters).toContain(`$KV.${buckets.control}.${controlKeys.autoscalerStatus}`);
  expect(filters.length).toBe(before + 2);
  for (const stop of stops) stop();
});
