// The job status store (platform/job-status.ts) against a real nats-server and the real bucket:
// every write of a job lands on a key of its own, so the bucket never holds two entries of one key
// (nats-server 2.9 pays a scan of the stream to remove the older of two; docs/benchmarks.md), and a
// read folds a job's keys back into one view, in the order they were stored: retries, a dead letter
// and its replay, and a status written under the bare job id by the version before.
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startNatsServer, type NatsServerHandle } from '#devenv/nats-server.ts';
import { loadConfig } from '#platform/config.ts';
import { openJobStatusReader, openJobStatusStore, type JobStatusEntry, type JobStatusStore } from '#platform/job-status.ts';
import { provision } from '#platform/nats/provision.ts';
import { buckets } from '#platform/nats/subjects.ts';
import { declareTopology } from '#platform/nats/topology.ts';

let server: NatsServerHandle;
let nc: NatsConnection;
let jsm: JetStreamManager;
let status: JobStatusStore;
const stream = `KV_${buckets.jobs}`;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
  await provision(nc, declareTopology(loadConfig({ NATS_URL: server.url })));
  status = await openJobStatusStore(nc);
});
afterAll(async () => {
  status?.close();
  await nc?.close();
  await server?.dispose();
});

const at = (second: number) => new Date(Date.UTC(2026, 11, 5, 23, 0, second)).toISOString();
const base = { type: 'fast.echo', pool: 'fast' } as const;
const failure = (n: number) => ({ code: 'UPSTREAM_TIMEOUT', message: `attempt ${n} timed out` });

/** The bucket's subjects of one job, with how many entries each holds. */
async function subjectsOf(id: string): Promise<Record<string, number>> {
  const info = await jsm.streams.info(stream, { subjects_filter: `$KV.${buckets.jobs}.${id}.>` });
  return info.state.subjects ?? {};
}

/** Writes as the roles do: `record` waits for storage, `note` goes out with the connection's next write. */
async function write(id: string, entries: Array<['record' | 'note', JobStatusEntry]>): Promise<void> {
  for (const [how, entry] of entries) {
    if (how === 'record') await status.record(id, entry);
    else status.note(id, entry);
  }
  await nc.flush();
}

it('stores each status write of a job under a key of its own, and folds them back into one view', async () => {
  const id = randomUUID();
  await write(id, [
    ['record', { ...base, state: 'accepted', at: at(0) }],
    ['note', { ...base, state: 'processing', at: at(1), attempt: 1 }],
    ['note', { ...base, state: 'processing', at: at(2), attempt: 1, error: failure(1) }],
    ['note', { ...base, state: 'processing', at: at(3), attempt: 2 }],
    ['record', { ...base, state: 'completed', at: at(4), attempt: 2 }],
  ]);
  const subjects = await subjectsOf(id);
  expect(Object.keys(subjects)).toHaveLength(5);
  expect(Object.values(subjects).every((count) => count === 1), JSON.stringify(subjects)).toBe(true);
  expect(await status.read(id)).toEqual({
    id, ...base, status: 'completed', attempts: 2, acceptedAt: at(0), startedAt: at(1), finishedAt: at(4), firstFailureAt: at(2),
  });
  // The console's timeline: every entry, in the order they were stored.
  const history = await (await openJobStatusReader(nc)).history(id);
  expect(history.map((e) => `${e.state}:${e.attempt ?? '-'}${e.error ? ':failed' : ''}`)).toEqual(['accepted:-', 'processing:1', 'processing:1:failed', 'processing:2', 'completed:2']);
});

it('reads every attempt of a job retried until it was dead-lettered, and its replay', async () => {
  const id = randomUUID();
  const attempts = 7;
  const entries: Array<['record' | 'note', JobStatusEntry]> = [['record', { ...base, state: 'accepted', at: at(0) }]];
  for (let n = 1; n <= attempts; n++) {
    entries.push(['note', { ...base, state: 'processing', at: at(2 * n - 1), attempt: n }]);
    if (n < attempts) entries.push(['note', { ...base, state: 'processing', at: at(2 * n), attempt: n, error: failure(n) }]);
  }
  entries.push(['record', { ...base, state: 'dead_lettered', at: at(20), attempt: attempts, error: failure(attempts) }]);
  const replacement = randomUUID();
  entries.push(['record', { ...base, state: 'dead_lettered', at: at(30), replayedAs: replacement }]);
  await write(id, entries);
  const view = await status.read(id);
  expect(view).toMatchObject({ status: 'dead_lettered', attempts, startedAt: at(1), firstFailureAt: at(2), error: failure(attempts), replayedAs: replacement });
  expect((await (await openJobStatusReader(nc)).history(id)).filter((e) => e.state === 'processing')).toHaveLength(2 * attempts - 1);
});

it('reads an attempt whose start was never noted, from the terminal entry that names it', async () => {
  // A worker that crashed before its note went out: attempt 3 is known only from the terminal entry.
  const id = randomUUID();
  await write(id, [
    ['record', { ...base, state: 'accepted', at: at(0) }],
    ['note', { ...base, state: 'processing', at: at(1), attempt: 1 }],
    ['note', { ...base, state: 'processing', at: at(5), attempt: 4 }],
    ['record', { ...base, state: 'completed', at: at(6), attempt: 4 }],
  ]);
  const history = await (await openJobStatusReader(nc)).history(id);
  expect(history.map((e) => e.attempt ?? 0)).toEqual([0, 1, 4, 4]);
});

it('still reads a status stored under the bare job id, as the version before wrote it', async () => {
  const id = randomUUID();
  await jsm.streams.info(stream); // the bucket is there
  const js = (await import('@nats-io/jetstream')).jetstream(nc);
  await js.publish(`$KV.${buckets.jobs}.${id}`, JSON.stringify({ ...base, state: 'accepted', at: at(0) }));
  await js.publish(`$KV.${buckets.jobs}.${id}`, JSON.stringify({ ...base, state: 'processing', at: at(1), attempt: 1 }));
  await status.record(id, { ...base, state: 'completed', at: at(2), attempt: 1 });
  // The bare key's latest entry (its earlier ones are history only an old reader folded).
  expect(await status.read(id)).toMatchObject({ status: 'completed', attempts: 1, startedAt: at(1), finishedAt: at(2) });
  expect(await status.read(randomUUID())).toBeUndefined();
});
