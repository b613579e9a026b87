// Re-provisioning never deletes what a stream holds by accident (reliability matrix: provisioning
// a smaller limit). nats-server 2.9 applies a smaller max_msgs to the messages already stored, even
// with discard: new, so `tps provision` (and `tps up`, and compose's provision service) must refuse
// unless the operator names how many may go.
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provision, ProvisionRefused } from '#platform/nats/provision.ts';
import { declareTopology } from '#platform/nats/topology.ts';
import { tps } from '#devenv/cli.ts';
import { startNatsServer, type NatsServerHandle } from '#devenv/nats-server.ts';
import { testConfig } from '#devenv/roles.ts';

let server: NatsServerHandle;
let nc: NatsConnection;
let jsm: JetStreamManager;
const topology = (env: Record<string, string> = {}) => declareTopology(testConfig(server.url, env));
const depth = async (stream: string) => (await jsm.streams.info(stream)).state.messages;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
  await provision(nc, topology({ FAST_QUEUE_CAPACITY: '100' }));
  const js = jsm.jetstream();
  for (let i = 0; i < 100; i += 1) await js.publish('jobs.fast.echo', JSON.stringify({ i }), { msgID: `shrink-${i}` });
});
afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

describe('a smaller capacity than a stream holds', () => {
  it('is refused with the stream, what it holds, the new limit and how to drain; nothing changes', async () => {
    const attempt = provision(nc, topology({ FAST_QUEUE_CAPACITY: '50', DLQ_CAPACITY: '500' }));
    await expect(attempt).rejects.toBeInstanceOf(ProvisionRefused);
    await expect(attempt).rejects.toThrow(/JOBS_FAST holds 100 messages; max_msgs 100 -> 50 would delete 50 of them/);
    await expect(attempt).rejects.toThrow(/Nothing was changed\. Drain first/);
    await expect(attempt).rejects.toThrow(/tps provision --force JOBS_FAST=50/);
    expect(await depth('JOBS_FAST')).toBe(100);
    expect((await jsm.streams.info('JOBS_FAST')).config.max_msgs).toBe(100);
    // The DLQ change was harmless, but the run is refused as a whole: no half-applied topology.
    expect((await jsm.streams.info('DLQ')).config.max_msgs).toBe(10_000);
  });

  it('is applied when it deletes nothing (a larger capacity, or a smaller one above the depth)', async () => {
    const up = await provision(nc, topology({ FAST_QUEUE_CAPACITY: '300' }));
    expect(up.find((a) => a.name === 'JOBS_FAST')?.changes).toEqual(['max_msgs: 100 -> 300']);
    const down = await provision(nc, topology({ FAST_QUEUE_CAPACITY: '150' }));
    expect(down.find((a) => a.name === 'JOBS_FAST')?.changes).toEqual(['max_msgs: 300 -> 150']);
    expect(await depth('JOBS_FAST')).toBe(100);
  });

  it('goes ahead only when --force names at least as many as would go', async () => {
    await expect(provision(nc, topology({ FAST_QUEUE_CAPACITY: '60' }), { force: { JOBS_FAST: 39 } })).rejects.toThrow(/would delete 40/);
    await expect(provision(nc, topology({ FAST_QUEUE_CAPACITY: '60' }), { force: { JOBS_SLOWW: 40 } })).rejects.toThrow(/--force names JOBS_SLOWW, not a stream/);
    expect(await depth('JOBS_FAST')).toBe(100);
    await provision(nc, topology({ FAST_QUEUE_CAPACITY: '60' }), { force: { JOBS_FAST: 40 } });
    expect(await depth('JOBS_FAST')).toBe(60);
  });
});

describe('tps provision', () => {
  it('exits 1 with the refusal, 2 for a malformed --force, and 0 once forced', async () => {
    const env = { NATS_URL: server.url, FAST_QUEUE_CAPACITY: '20' };
    const refused = await tps(['provision'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/JOBS_FAST holds 60 messages; max_msgs 60 -> 20 would delete 40 of them/);
    expect(refused.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    const malformed = await tps(['provision', '--force', 'JOBS_FAST'], env);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/--force: "JOBS_FAST" is not STREAM=N/);
    expect(await depth('JOBS_FAST')).toBe(60);
    const forced = await tps(['provision', '--force', 'JOBS_FAST=40'], env);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/updated\s+stream\s+JOBS_FAST\s+\(max_msgs: 60 -> 20\)/);
    expect(await depth('JOBS_FAST')).toBe(20);
  });
});

describe('a shorter age than the oldest message', () => {
  it('is refused for a stream whose messages would expire (the DLQ bucket of dead-letter details)', async () => {
    // KV_tps_dlq keeps entries 7 days; declaring 1 s while it holds older entries would drop them.
    const kv = (await jsm.streams.info('KV_tps_dlq')).config;
    await jsm.jetstream().publish('$KV.tps_dlq.one', 'entry');
    // 1 ms: the entry is older than that by the time provisioning looks (a publish round trip).
    const shorter = { ...topology(), streams: topology().streams.map((s) => (s.name === 'KV_tps_dlq' ? { ...s, max_age: 1_000_000 } : s)) };
    await expect(provision(nc, shorter)).rejects.toThrow(/KV_tps_dlq holds 1 message; max_age 604800s -> 1ms would delete 1 of them/);
    expect((await jsm.streams.info('KV_tps_dlq')).config.max_age).toBe(kv.max_age);
  });
});
