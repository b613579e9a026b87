// Provisioning after the broker lost its last writes (platform/nats/consumer-reset.ts), against a
// real nats-server whose store is on a crash disk (devenv/crash-disk.ts): each pool's job consumer
// and DLQ mover have read and acknowledged messages whose stream records the power cut then takes,
// while their own state files reached the disk. Provisioning makes each of them again, the job
// consumer from its queue's first message, the mover after the last advisory its stream still
// holds; each then gets what is published next, and a second provisioning changes nothing. Until
// then, a worker's start-up check refuses such a consumer, saying how to repair it.
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { provision, verifyTopology } from '#platform/nats/provision.ts';
import { streams } from '#platform/nats/subjects.ts';
import { declareTopology, dlqMoverConsumer } from '#platform/nats/topology.ts';
import { createCrashDisk, type CrashDisk } from '#devenv/crash-disk.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { testConfig } from '#devenv/roles.ts';

let disk: CrashDisk;
let server: NatsServerHandle;
let nc: NatsConnection | undefined;
const advisory = 'ADVISORY.CONSUMER.MAX_DELIVERIES.JOBS_FAST.workers-fast';
// The jobs are in flight at the cut (delivered, not yet acknowledged): acknowledged, a work
// queue's message is removed and nats-server rewrites the stream's index file, which ext4 then
// keeps with the queue's last sequence. The advisories are acknowledged (a limits stream keeps them).
const readers = [
  { stream: 'JOBS_FAST', durable: 'workers-fast', subject: 'jobs.fast.echo', ack: false },
  { stream: streams.advisories, durable: dlqMoverConsumer('fast'), subject: `$JS.EVENT.${advisory}`, ack: true },
];

beforeAll(async () => {
  disk = createCrashDisk('provision');
  server = await startNatsServer({ storeDir: disk.dir });
}, 30_000);
afterAll(async () => {
  await nc?.close();
  await server?.dispose();
  disk?.dispose();
});

const topology = () => declareTopology(testConfig(server.url));

/** nats-server 2.9 keeps a consumer's state in <stream>/obs/<consumer>/o.dat. */
function stateFile(stream: string, durable: string): string {
  const root = path.join(disk.dir, 'jetstream');
  const found = readdirSync(root, { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith(path.join(stream, 'obs', durable, 'o.dat')));
  if (!found) throw new Error(`no state file of ${stream}/${durable} under ${root}`);
  return path.join(root, found);
}

/** A consumer state file as nats-server 2.9 writes it (encodeConsumerState): a 2-byte header, then
 * uvarints: ack floor (consumer, stream sequence), delivered (consumer, stream sequence), ... */
function consumerState(file: string): { ackFloorStream: number; deliveredStream: number } {
  const buf = readFileSync(file);
  let at = 2;
  const uvarint = () => {
    let [value, shift] = [0, 0];
    for (;;) {
      const byte = buf[at++] ?? 0;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
      shift += 7;
    }
  };
  const [, ackFloorStream, , deliveredStream] = [uvarint(), uvarint(), uvarint(), uvarint()];
  return { ackFloorStream: ackFloorStream ?? 0, deliveredStream: deliveredStream ?? 0 };
}

async function read(js: JetStreamClient, { stream, durable, ack }: (typeof readers)[number], count: number): Promise<number[]> {
  const consumer = await js.consumers.get(stream, durable);
  const seqs: number[] = [];
  while (seqs.length < count) {
    for await (const m of await consumer.fetch({ max_messages: count - seqs.length, expires: 2_000 })) {
      seqs.push(m.seq);
      if (ack) await m.ackAck();
    }
  }
  return seqs;
}

it('makes each consumer ahead of its stream again, reading from where nothing is skipped; then changes nothing', async () => {
  nc = await connect({ servers: server.url });
  await provision(nc, topology());
  disk.syncAll(); // the streams and consumers are on the disk; what follows is not
  const js = jetstream(nc);
  for (let i = 0; i < 5; i++) for (const r of readers) await js.publish(r.subject, JSON.stringify({ stream: 'JOBS_FAST', stream_seq: i + 1, deliveries: 5 }));
  for (const r of readers) expect(await read(js, r, 5)).toHaveLength(5);
  // nats-server writes a consumer's state file shortly after a delivery or an ack, and again after
  // the next: wait until the file says the fifth was delivered (and acknowledged, where it was), not
  // for the first write after the reads began (under a loaded CI that one still said message 1).
  const written = (r: (typeof readers)[number]) => {
    const state = existsSync(stateFile(r.stream, r.durable)) ? consumerState(stateFile(r.stream, r.durable)) : undefined;
    return state?.deliveredStream === 5 && (!r.ack || state.ackFloorStream === 5);
  };
  await waitFor(() => (readers.every(written) ? true : undefined), 10_000,
    () => `the consumers' state files to say message 5 was delivered: ${readers.map((r) => `${r.durable} ${JSON.stringify(existsSync(stateFile(r.stream, r.durable)) ? consumerState(stateFile(r.stream, r.durable)) : 'no file')}`).join(', ')}`, 50);
  await nc.close();

  // The power goes; the state files had reached the disk, the messages had not.
  await server.stop({ hard: true });
  for (const r of readers) disk.syncFile(stateFile(r.stream, r.durable));
  disk.powerCut();
  await server.start();
  nc = await connect({ servers: server.url });
  const jsm = await jetstreamManager(nc);
  for (const r of readers) expect((await jsm.streams.info(r.stream)).state.last_seq, `${r.stream} after the cut`).toBe(0);

  // A worker started now (compose restarts the roles, not its provision step) refuses, saying why.
  const workerNeeds = { streams: ['JOBS_FAST'], consumers: ['workers-fast'] };
  await expect(verifyTopology(jsm, topology(), workerNeeds)).rejects.toThrow(/consumer JOBS_FAST\/workers-fast has delivered up to message 5 of a stream that now ends at 0: .*Run `tps provision`/);

  const actions = await provision(nc, topology());
  const reset = actions.filter((a) => a.action === 'reset');
  expect(reset.map((a) => a.name).sort()).toEqual(readers.map((r) => `${r.stream}/${r.durable}`).sort());
  expect(reset.find((a) => a.name.startsWith('JOBS_FAST'))?.changes[0]).toMatch(/delivered up to message 5 of a stream that now ends at 0: .*every message the stream holds/);
  expect(reset.find((a) => a.name.startsWith(streams.advisories))?.changes[0]).toMatch(/delivered up to message 5 of a stream that now ends at 0: .*from message 1$/);
  await verifyTopology(jsm, topology(), workerNeeds);
  const mover = await jsm.consumers.info(streams.advisories, dlqMoverConsumer('fast'));
  expect(mover.config).toMatchObject({ deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 1 });

  // Each gets what comes next (sequence 1 again: the stream gives out the numbers it lost).
  const after = jetstream(nc);
  for (const r of readers) await after.publish(r.subject, JSON.stringify({ stream: 'JOBS_FAST', stream_seq: 1, deliveries: 5 }));
  for (const r of readers) expect(await read(after, r, 1), `${r.stream}/${r.durable}`).toEqual([1]);
  // Where a consumer starts is not a setting to change afterwards: nothing to do the next time.
  expect((await provision(nc, topology())).filter((a) => a.action !== 'unchanged')).toEqual([]);
}, 60_000);

it('resets a consumer it makes again over a stream the cut took, when the consumer kept its old state', async () => {
  // What a power cut left in CI: the stream's definition and messages gone, its consumer's folder
  // (obs/) kept. Provisioning makes the stream again, and the consumer it then adds comes back
  // with its old state: "delivered up to message 5 of a stream that now ends at 0".
  const own = await startNatsServer();
  try {
    const topology = declareTopology(testConfig(own.url));
    let nc = await connect({ servers: own.url });
    await provision(nc, topology);
    const js = jetstream(nc);
    for (let i = 0; i < 5; i++) await js.publish('jobs.slow.report', JSON.stringify({ i }));
    for await (const m of await (await js.consumers.get('JOBS_SLOW', 'workers-slow')).fetch({ max_messages: 5, expires: 2_000 })) m.ack();
    await nc.flush();
    await nc.close();
    await own.stop();
    const streamDir = path.join(own.storeDir, 'jetstream', '$G', 'streams', 'JOBS_SLOW');
    for (const part of ['meta.inf', 'meta.sum', 'msgs']) rmSync(path.join(streamDir, part), { recursive: true, force: true });
    await own.start();
    nc = await connect({ servers: own.url });
    const actions = await provision(nc, topology);
    expect(actions.find((a) => a.name === 'JOBS_SLOW/workers-slow')?.action).toBe('reset');
    const jsm = await jetstreamManager(nc);
    expect((await jsm.consumers.info('JOBS_SLOW', 'workers-slow')).delivered.stream_seq).toBeLessThanOrEqual((await jsm.streams.info('JOBS_SLOW')).state.last_seq);
    await nc.close();
  } finally {
    await own.dispose();
  }
});
