// A stream a power cut left with a stale delete map (platform/nats/stream-repair.ts), against a
// real nats-server 2.9.10: each job queue had interior messages deleted (acknowledged), the server
// stopped with its index files written, then its block file lost what a power cut takes (all of
// JOBS_FAST's, the second half of JOBS_SLOW's: the index kept, the block's tail not, as seen in
// CI). Booted, the server counts the lost sequences deleted and gives them to the next messages,
// which are then never delivered. A role refuses to start on such a stream; provisioning makes it
// whole, keeping what it held, and every message published after is delivered; also a stream it
// made again over the files a cut left (its definition lost), a repair stopped half way finished.
// And a work queue that got back messages its consumer had acknowledged (the cut took their
// deletes) has them removed, which would otherwise fill it for good. A DLQ entry the repair
// renumbers keeps its claim and its time: replayed before, it is not replayed a second time.
import { cpSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, truncateSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { provision, verifyTopology } from '#platform/nats/provision.ts';
import { holdingStream, staleDeletes } from '#platform/nats/stream-repair.ts';
import { declareTopology } from '#platform/nats/topology.ts';
import { poolDefinitions } from '#platform/pools.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { testConfig } from '#devenv/roles.ts';
import { openClaims } from '#platform/dlq/claims.ts';
import { publishDeadLetter } from '#platform/dlq/dead-letter.ts';
import { readEntries } from '#platform/dlq/entries.ts';
import { openDlqOperations } from '#platform/dlq/operations.ts';
import { replayJobId } from '#platform/dlq/replay.ts';
import { encodeJob, newJobId } from '#platform/job-message.ts';
import { streams } from '#platform/nats/subjects.ts';

const storeDir = mkdtempSync(path.join(os.tmpdir(), 'tps-stream-repair-'));
let server: NatsServerHandle;
let nc: NatsConnection | undefined;
const fast = poolDefinitions.fast;
const slow = poolDefinitions.slow;

beforeAll(async () => {
  server = await startNatsServer({ storeDir });
}, 30_000);
afterAll(async () => {
  await nc?.close();
  await server?.dispose();
  rmSync(storeDir, { recursive: true, force: true });
});

const topology = () => declareTopology(testConfig(server.url));
const body = (pool: string, i: number) => JSON.stringify({ pool, i: String(i).padStart(3, '0') }); // one length: records of one size

async function connected(): Promise<{ jsm: JetStreamManager; js: JetStreamClient }> {
  await nc?.close();
  nc = await connect({ servers: server.url });
  return { jsm: await jetstreamManager(nc), js: jetstream(nc) };
}

/** The stream's one message block (nats-server 2.9: <store>/jetstream/$G/streams/<stream>/msgs/1.blk). */
function blockFile(stream: string): string {
  const root = path.join(storeDir, 'jetstream');
  const found = readdirSync(root, { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith(path.join(stream, 'msgs', '1.blk')));
  if (!found) throw new Error(`no block file of ${stream} under ${root}`);
  return path.join(root, found);
}

/** Everything the pool's durable consumer delivers now, acknowledged (as its workers would). */
async function drain(js: JetStreamClient, stream: string, durable: string, expected: number): Promise<string[]> {
  const got: string[] = [];
  const consumer = await js.consumers.get(stream, durable);
  const batch = await consumer.fetch({ max_messages: expected + 1, expires: 3_000 });
  for await (const m of batch) {
    got.push(m.string());
    m.ack();
  }
  return got;
}

it('refuses a role, then makes whole a stream whose delete map outlived its lost last writes, keeping what it held', async () => {
  let { jsm, js } = await connected();
  await provision(nc!, topology());
  for (let i = 1; i <= 40; i++) {
    await js.publish('jobs.fast.echo', body('fast', i));
    await js.publish('jobs.slow.report', body('slow', i));
  }
  // Acknowledged out of order: interior deletes, which nats-server 2.9 keeps in the index file only.
  for (let seq = 3; seq <= 39; seq += 2) await jsm.streams.deleteMessage(fast.stream, seq, false);
  for (let seq = 21; seq <= 39; seq += 2) await jsm.streams.deleteMessage(slow.stream, seq, false);
  await nc!.close();
  nc = undefined;
  await server.stop();
  // The power cut: the index files were written, the blocks' last writes were not.
  truncateSync(blockFile(fast.stream), 0);
  truncateSync(blockFile(slow.stream), statSync(blockFile(slow.stream)).size / 2);
  await server.start();
  ({ jsm, js } = await connected());

  expect((await staleDeletes(jsm, fast.stream)).stale, 'the fault: deleted sequences past the stream\'s end').toHaveLength(19);
  expect((await staleDeletes(jsm, slow.stream)).stale).toHaveLength(10);
  await expect(verifyTopology(jsm, topology(), { streams: [fast.stream], consumers: [fast.consumer] }))
    .rejects.toThrow(/stream JOBS_FAST: its delete map names 19 sequence\(s\) past its last message 0 .*Run `tps provision`/);

  const actions = await provision(nc!, topology());
  const repaired = actions.filter((a) => a.action === 'repaired');
  expect(repaired.map((a) => a.name).sort()).toEqual([fast.stream, slow.stream]);
  expect(repaired.find((a) => a.name === fast.stream)?.changes.join()).toMatch(/purged \(it held no message\), its sequences go on from 1/);
  expect(repaired.find((a) => a.name === slow.stream)?.changes.join()).toMatch(/its 20 message\(s\) held aside, the stream purged, and put back in order/);
  await verifyTopology(jsm, topology(), { streams: [fast.stream, slow.stream], consumers: [fast.consumer, slow.consumer] });
  expect(await jsm.streams.info(holdingStream).then(() => 'left', () => 'gone')).toBe('gone');

  for (let i = 41; i <= 70; i++) {
    await js.publish('jobs.fast.echo', body('fast', i));
    await js.publish('jobs.slow.report', body('slow', i));
  }
  const range = (from: number, to: number, pool: string) => Array.from({ length: to - from + 1 }, (_, k) => body(pool, from + k));
  expect(await drain(js, fast.stream, fast.consumer, 30)).toEqual(range(41, 70, 'fast'));
  // What the block kept (1-20) before what came after, in order.
  expect(await drain(js, slow.stream, slow.consumer, 50)).toEqual([...range(1, 20, 'slow'), ...range(41, 70, 'slow')]);
  expect((await provision(nc!, topology())).filter((a) => a.action === 'repaired')).toEqual([]);
}, 60_000);

it('finishes a repair that stopped after its purge: what the holding stream has goes back to its stream', async () => {
  const { jsm, js } = await connected();
  // As a repair leaves it between its purge and putting back: the copy in the holding stream.
  await jsm.streams.add({ name: holdingStream, subjects: ['tps.repair.>'] });
  const h = headers();
  h.set('Tps-Repair-Subject', 'jobs.fast.echo');
  h.set('Tps-Repair-Seq', '7');
  h.set('Tps-Job-Type', 'fast.echo');
  await js.publish(`tps.repair.${fast.stream}`, body('fast', 7), { headers: h, msgID: `${fast.stream}:7` });

  const actions = await provision(nc!, topology());
  expect(actions.filter((a) => a.action === 'repaired')).toEqual([
    { kind: 'stream', name: fast.stream, action: 'repaired', changes: ['a repair stopped half way was finished: what the stream held is back in it'] },
  ]);
  expect(await jsm.streams.info(holdingStream).then(() => 'left', () => 'gone')).toBe('gone');
  const consumer = await js.consumers.get(fast.stream, fast.consumer);
  const m = await consumer.next({ expires: 3_000 });
  expect(m?.string()).toBe(body('fast', 7));
  expect(m?.headers?.get('Tps-Job-Type')).toBe('fast.echo');
  expect(m?.headers?.get('Tps-Repair-Subject') ?? '').toBe('');
  m?.ack();
}, 30_000);

it('makes whole a stream it had to make again, over what the cut left of its files', async () => {
  let { jsm, js } = await connected();
  const { state } = await jsm.streams.info(fast.stream);
  for (let i = 1; i <= 40; i++) await js.publish('jobs.fast.echo', body('fast', i));
  for (let seq = state.last_seq + 3; seq < state.last_seq + 40; seq += 2) await jsm.streams.deleteMessage(fast.stream, seq, false);
  await nc!.close();
  nc = undefined;
  await server.stop();
  // The cut took the stream's definition too (an empty meta.inf: "checksums do not match"), and the
  // block's writes, not its index: the server does not restore the stream; provisioning makes it
  // again, in the folder that still holds the index.
  truncateSync(path.join(path.dirname(path.dirname(blockFile(fast.stream))), 'meta.inf'), 0);
  truncateSync(blockFile(fast.stream), 0);
  await server.start();
  ({ jsm, js } = await connected());
  expect(await jsm.streams.info(fast.stream).then(() => 'restored', () => 'gone'), 'the fault: the stream not restored').toBe('gone');

  const actions = await provision(nc!, topology());
  expect(actions.filter((a) => a.name === fast.stream).map((a) => a.action)).toEqual(['created', 'repaired']);
  for (let i = 41; i <= 70; i++) await js.publish('jobs.fast.echo', body('fast', i));
  expect(await drain(js, fast.stream, fast.consumer, 30)).toEqual(Array.from({ length: 30 }, (_, k) => body('fast', 41 + k)));
}, 60_000);

it('removes from a work queue the messages its consumer had acknowledged, whose deletes the cut took', async () => {
  let { jsm, js } = await connected();
  await provision(nc!, topology());
  for (let i = 1; i <= 20; i++) await js.publish('jobs.slow.report', body('slow', i));
  const msgs = path.dirname(blockFile(slow.stream));
  const before = `${msgs}.before`;
  await nc!.close();
  nc = undefined;
  await server.stop();
  cpSync(msgs, before, { recursive: true });
  await server.start();
  ({ jsm, js } = await connected());
  expect(await drain(js, slow.stream, slow.consumer, 20)).toEqual(Array.from({ length: 20 }, (_, k) => body('slow', 1 + k)));
  await waitFor(async () => ((await jsm.streams.info(slow.stream)).state.messages === 0 ? true : undefined), 5_000, () => 'the acknowledged jobs to leave the queue');
  await nc!.close();
  nc = undefined;
  await server.stop();
  // The cut: the consumer's state (all 20 acknowledged) reached the disk, the queue's deletes not.
  rmSync(msgs, { recursive: true });
  renameSync(before, msgs);
  await server.start();
  ({ jsm, js } = await connected());
  expect((await jsm.streams.info(slow.stream)).state.messages, 'the fault: acknowledged jobs back in the queue').toBe(20);

  const actions = await provision(nc!, topology());
  expect(actions.filter((a) => a.action === 'repaired').map((a) => `${a.name}: ${a.changes.join()}`))
    .toEqual([expect.stringMatching(/^JOBS_SLOW: its queue still held 20 message\(s\) workers-slow had acknowledged \(up to message \d+\)/)]);
  expect((await jsm.streams.info(slow.stream)).state.messages).toBe(0);
  await js.publish('jobs.slow.report', body('slow', 21));
  expect(await drain(js, slow.stream, slow.consumer, 1)).toEqual([body('slow', 21)]);
}, 60_000);

it('keeps a DLQ entry\'s claim and time through the repair that renumbers it: a replayed entry left behind is not replayed again', async () => {
  let { jsm, js } = await connected();
  await provision(nc!, topology());
  const ids = Array.from({ length: 40 }, () => newJobId());
  for (const [i, id] of ids.entries()) {
    const now = new Date().toISOString();
    await publishDeadLetter(js, encodeJob({ id, type: 'fast.echo', pool: 'fast', acceptedAt: now }), undefined, {
      jobId: id, type: 'fast.echo', pool: 'fast', failure: { code: 'FAULT_INJECTED', message: 'the test' }, reason: 'retries_exhausted',
      attempts: 4, firstFailure: now, lastFailure: now, originalSubject: 'jobs.fast.echo', originalSeq: 100 + i, by: 'test',
    });
  }
  const first = await readEntries(js, jsm);
  // Entry 5 was replayed and its claim completed, but its delete failed (a replay goes on past one).
  const replayedBefore = first[4]!;
  const claims = await openClaims(nc!);
  const won = await claims.claim(replayedBefore, { action: 'replay', state: 'claimed', by: 'test', at: new Date().toISOString(), newJobId: replayJobId(replayedBefore) });
  if (!won.won) throw new Error('the claim of entry 5 was not won');
  await claims.complete(replayedBefore, won.revision, { action: 'replay', state: 'claimed', by: 'test', at: new Date().toISOString(), newJobId: replayJobId(replayedBefore) });
  for (let seq = first[20]!.seq; seq < first[39]!.seq; seq += 2) await jsm.streams.deleteMessage(streams.dlq, seq, false);
  await nc!.close();
  nc = undefined;
  await server.stop();
  truncateSync(blockFile(streams.dlq), statSync(blockFile(streams.dlq)).size / 2);
  await server.start();
  ({ jsm, js } = await connected());
  expect((await provision(nc!, topology())).filter((a) => a.action === 'repaired').map((a) => a.name)).toEqual([streams.dlq]);

  const after = await readEntries(js, jsm);
  const moved = after.find((e) => e.jobId === replayedBefore.jobId)!;
  expect(moved.seq, 'the fault: the repair renumbered the entry').not.toBe(replayedBefore.seq);
  expect([moved.firstSeq, moved.deadLetteredAt]).toEqual([replayedBefore.seq, replayedBefore.deadLetteredAt]);
  const ops = await openDlqOperations(nc!);
  const [again, next] = await ops.replay({ filter: { ids: [moved.seq, moved.seq + 1] } }, { ratePerSecond: 100, dryRun: false, by: 'test' });
  expect(again).toMatchObject({ outcome: 'skipped', why: `already replayed by test as job ${replayJobId(replayedBefore)}` });
  // Its neighbour, never replayed, replays as the job it would have made before the repair.
  expect(next).toMatchObject({ outcome: 'replayed', jobId: first[5]!.jobId, newJobId: replayJobId(first[5]!) });
  ops.close();
}, 60_000);
