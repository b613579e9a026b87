import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { provision, verifyTopology } from '#platform/nats/provision.ts';
import { declareTopology } from '#platform/nats/topology.ts';
import { startNatsServer, type NatsServerHandle } from '#devenv/nats-server.ts';
import { testConfig } from '#devenv/roles.ts';

let server: NatsServerHandle;
let nc: NatsConnection;
beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
});
afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

it('reports a missing topology by name, creates it, and a second run changes nothing', async () => {
  const topology = declareTopology(testConfig(server.url));
  const jsm = await jetstreamManager(nc);
  await expect(verifyTopology(jsm, topology, { streams: ['JOBS_FAST', 'DLQ'], consumers: ['workers-fast'] }))
    .rejects.toThrow(/missing stream JOBS_FAST, stream DLQ, consumer JOBS_FAST\/workers-fast\. Run `tps provision`/);

  const first = await provision(nc, topology);
  expect(first.every((a) => a.action === 'created')).toBe(true);
  expect(first.map((a) => a.name)).toEqual(expect.arrayContaining(['JOBS_FAST', 'JOBS_SLOW', 'DLQ', 'ADVISORIES', 'KV_tps_jobs', 'JOBS_FAST/workers-fast']));
  const second = await provision(nc, topology);
  expect(second.filter((a) => a.action !== 'unchanged')).toEqual([]);
  await verifyTopology(jsm, topology, { streams: ['JOBS_FAST', 'DLQ'], consumers: ['workers-fast', 'workers-slow'] });

  const info = await jsm.streams.info('JOBS_FAST');
  expect(info.config).toMatchObject({ retention: 'workqueue', discard: 'new', max_msgs: 1000, subjects: ['jobs.fast.*'] });
  const consumer = await jsm.consumers.info('JOBS_FAST', 'workers-fast');
  expect(consumer.config.max_ack_pending).toBeGreaterThan(0);
  expect(consumer.config.max_deliver).toBeGreaterThan(1);
});

it('applies a changed limit and reports it', async () => {
  const changed = await provision(nc, declareTopology(testConfig(server.url, { FAST_QUEUE_CAPACITY: '1500', DLQ_CAPACITY: '500' })));
  const updates = changed.filter((a) => a.action === 'updated');
  expect(updates.map((u) => [u.name, u.changes])).toEqual([
    ['JOBS_FAST', ['max_msgs: 1000 -> 1500']],
    ['DLQ', ['max_msgs: 10000 -> 500']],
  ]);
  const jsm = await jetstreamManager(nc);
  expect((await jsm.streams.info('JOBS_FAST')).config.max_msgs).toBe(1500);
});
