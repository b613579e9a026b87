// The ingress's retry while a stream has no leader (platform/nats/publish-retry.ts), against a real
// nats-server: a publish to a subject no stream answers yet ("no responders", as during an election)
// is tried again with the same message id and lands once the stream is there; it gives up at its
// deadline with the broker's reason; a publish without a message id, or to a full stream, is not
// retried (a second attempt could store it twice, or cannot succeed), nor is one the broker's store
// failed to write (its disk full: a 503 as well). A worker's terminal status write waits out an
// election of the status bucket the same way.
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCrashDisk } from '#devenv/crash-disk.ts';
import { startNatsServer, type NatsServerHandle } from '#devenv/nats-server.ts';
import { createJetStreamPublisher, PublishError } from '#platform/nats/jetstream-publisher.ts';
import { withPublishRetry } from '#platform/nats/publish-retry.ts';
import { isStoreFailure } from '#platform/nats/stream-errors.ts';
import { Kvm } from '@nats-io/kv';
import { openJobStatusStore } from '#platform/job-status.ts';
import { buckets } from '#platform/nats/subjects.ts';

let server: NatsServerHandle;
let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

const data = new TextEncoder().encode('{}');

it('retries a leaderless publish with the same id until the stream answers, and stores it once', async () => {
  let retries = 0;
  const publisher = withPublishRetry(createJetStreamPublisher(nc, { timeoutMs: 5_000 }), { timeoutMs: 5_000, backoffMs: 50, onRetry: () => { retries += 1; } });
  const pending = publisher.publish('late.one', data, { msgID: 'job-1' });
  // The stream appears while the publish is being retried, as a new leader would.
  await new Promise((resolve) => setTimeout(resolve, 300));
  await jsm.streams.add({ name: 'LATE', subjects: ['late.>'], duplicate_window: 60_000_000_000 });
  const ack = await pending;
  expect(retries).toBeGreaterThan(0);
  expect(ack).toMatchObject({ stream: 'LATE', seq: 1, duplicate: false });
  // The same id again (a retry of a publish whose ack was lost) is a duplicate, not a second job.
  expect(await publisher.publish('late.one', data, { msgID: 'job-1' })).toMatchObject({ seq: 1, duplicate: true });
  expect((await jsm.streams.info('LATE')).state.messages).toBe(1);
});

it('gives up at the deadline with the reason, and never retries without an id or into a full stream', async () => {
  let retries = 0;
  const publisher = withPublishRetry(createJetStreamPublisher(nc, { timeoutMs: 1_000 }), { timeoutMs: 600, backoffMs: 50, onRetry: () => { retries += 1; } });
  const nowhere = await publisher.publish('nowhere.one', data, { msgID: 'job-2' }).catch((err: unknown) => err);
  expect(nowhere).toBeInstanceOf(PublishError);
  expect((nowhere as PublishError).message).toBe('no stream answers on this subject (no responders)');
  expect(retries).toBeGreaterThan(1);

  retries = 0;
  await publisher.publish('nowhere.two', data, {}).catch(() => undefined);
  expect(retries).toBe(0);

  await jsm.streams.add({ name: 'TINY', subjects: ['tiny.>'], max_msgs: 1, discard: 'new' as never });
  await publisher.publish('tiny.one', data, { msgID: 'a' });
  const full = await publisher.publish('tiny.one', data, { msgID: 'b' }).catch((err: unknown) => err);
  expect(full).toBeInstanceOf(PublishError);
  expect(retries).toBe(0);
});

it('never retries a publish the broker\'s store failed to write (its disk full)', async () => {
  const disk = createCrashDisk('retry');
  const full = await startNatsServer({ storeDir: disk.dir });
  const conn = await connect({ servers: full.url });
  try {
    await (await jetstreamManager(conn)).streams.add({ name: 'FULL', subjects: ['full.>'] });
    const empty = disk.fill();
    let retries = 0;
    const publisher = withPublishRetry(createJetStreamPublisher(conn, { timeoutMs: 5_000 }), { timeoutMs: 5_000, backoffMs: 50, onRetry: () => { retries += 1; } });
    const failed = await publisher.publish('full.one', data, { msgID: 'job-3' }).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(PublishError);
    expect((failed as PublishError).message).toMatch(/no space left on device/);
    expect(isStoreFailure(failed)).toBe(true);
    expect(retries).toBe(0);
    empty();
    expect(await publisher.publish('full.one', data, { msgID: 'job-3' })).toMatchObject({ stream: 'FULL', seq: 1 });
  } finally {
    await conn.close();
    await full.dispose();
    disk.dispose();
  }
});

it("keeps a worker's terminal status write trying while the status bucket has no leader, and stores it once", async () => {
  const kvm = new Kvm(nc);
  await kvm.create(buckets.jobs, { history: 8 });
  const status = await openJobStatusStore(nc, { patienceMs: 5_000 });
  const entry = { state: 'completed', at: new Date().toISOString(), type: 'fast.echo', pool: 'fast', attempt: 1 } as const;
  await jsm.streams.delete(`KV_${buckets.jobs}`);
  // Sent on the same connection before the bucket is back, so its first try meets no responders.
  const pending = status.record('job-9', entry);
  await kvm.create(buckets.jobs, { history: 8 });
  await pending;
  await status.record('job-9', entry);
  expect(await status.read('job-9')).toMatchObject({ status: 'completed', attempts: 1 });
  expect((await jsm.streams.info(`KV_${buckets.jobs}`)).state.messages).toBe(1);
  status.close();
});
