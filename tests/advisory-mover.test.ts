// The safety net: a job whose last delivery is never acknowledged (its worker died every time)
// is moved to the DLQ from JetStream's MAX_DELIVERIES advisory, and taken off its queue (R17).
// A lookup or a removal that fails for a while (a permission missing here: the server's
// configuration is reloaded without it, then with it) leaves the job queued and the advisory
// pending, and the move completes once it works again; a DLQ that stays full for longer than
// ADVISORIES keeps advisories strands nothing either. A job already stored as completed (only its
// acks were lost) leaves its queue without a DLQ entry. The mover runs as the worker-fast NATS user,
// with the permissions of production.
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDlqOperations, type DlqOperations } from '#platform/dlq/operations.ts';
import { openJobStatusStore } from '#platform/job-status.ts';
import { encodeJob, newJobId } from '#platform/job-message.ts';
import { createRegistry } from '#platform/metrics.ts';
import { generatePasswords } from '#platform/nats/credentials.ts';
import { inboxPrefix } from '#platform/nats/permissions.ts';
import { provision } from '#platform/nats/provision.ts';
import { declareTopology } from '#platform/nats/topology.ts';
import { maxDeliver, poolDefinitions } from '#platform/pools.ts';
import { startAdvisoryMover } from '#workers/advisory-mover.ts';
import { dlqHeaders } from '#platform/dlq/dead-letter.ts';
import { workerEvents } from '#workers/events.ts';
import { startNatsServer, usersWithout, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { logSink, testConfig, type LogSink } from '#devenv/roles.ts';

const passwords = generatePasswords();
/** How long ADVISORIES keeps an advisory here (a day in production): a test can outlast it. */
const advisoriesKeptMs = 6_000;
const dlqCapacity = 4;
let server: NatsServerHandle;
let operator: NatsConnection;
let worker: NatsConnection;
let jsm: JetStreamManager;
let dlq: DlqOperations;
let sink: LogSink;
let stopMover: () => void = () => {};

beforeAll(async () => {
  server = await startNatsServer({ passwords });
  operator = await connect({ servers: server.url, user: 'operator', pass: passwords.operator });
  const topology = declareTopology(testConfig(server.url, { ACK_WAIT_MS: '300ms', DLQ_CAPACITY: String(dlqCapacity) }));
  const advisories = topology.streams.find((s) => s.name === 'ADVISORIES');
  if (advisories) advisories.max_age = nanos(advisoriesKeptMs);
  await provision(operator, topology);
  jsm = await jetstreamManager(operator);
  dlq = await openDlqOperations(operator);
  worker = await connect({ servers: server.url, user: 'worker-fast', pass: passwords['worker-fast'], inboxPrefix: inboxPrefix('worker-fast') });
  const log = logSink();
  sink = log.sink;
  const status = await openJobStatusStore(worker);
  stopMover = await startAdvisoryMover(worker, jetstream(worker), 'fast', {
    logger: log.logger,
    instance: 'test',
    events: workerEvents('fast', { registry: createRegistry({ defaults: false }), logger: log.logger, status }),
    status,
  });
});
afterAll(async () => {
  stopMover();
  dlq?.close();
  await worker?.close();
  await operator?.close();
  await server?.dispose();
});

type Stranded = { id: string; seq: number; advisorySeq: number; at: number };

/** A job a worker takes and dies on, every delivery, until JetStream gives up and says so. */
async function strandJob(id = newJobId()): Promise<Stranded> {
  const { seq } = await jetstream(operator).publish('jobs.fast.echo', encodeJob({ id, type: 'fast.echo', pool: 'fast', acceptedAt: new Date().toISOString() }), { msgID: id });
  const consumer = await jetstream(worker).consumers.get('JOBS_FAST', 'workers-fast');
  const before = (await jsm.streams.info('ADVISORIES')).state.last_seq;
  for (let delivery = 1; delivery <= maxDeliver(poolDefinitions.fast); delivery++) {
    const msg = await waitFor(() => consumer.next({ expires: 1_000 }).then((m) => m ?? undefined), 5_000, () => `delivery ${delivery}`);
    expect([msg.seq, msg.info.deliveryCount]).toEqual([seq, delivery]);
  }
  // A pull after the last delivery expired makes the server notice, and emit the advisory.
  const advisorySeq = await waitFor(async () => {
    await consumer.next({ expires: 1_000 });
    const last = (await jsm.streams.info('ADVISORIES')).state.last_seq;
    return last > before ? last : undefined;
  }, 5_000, () => 'the MAX_DELIVERIES advisory');
  return { id, seq, advisorySeq, at: Date.now() };
}

const queued = async (seq: number) => (await jsm.streams.getMessage('JOBS_FAST', { seq })) !== null;
const dlqEntriesOf = (id: string) => dlq.list({ jobId: id });
/** The mover has had a go at the job's advisory: it failed and said so, or it acknowledged it. */
function moverTried(job: Stranded, failure: RegExp): () => Promise<true | undefined> {
  return async () => {
    if (sink.lines.some((l) => failure.test(String(l.msg)) && (l.advisory as { stream_seq?: number } | undefined)?.stream_seq === job.seq)) return true;
    return (await jsm.consumers.info('ADVISORIES', 'dlq-mover-fast')).ack_floor.stream_seq >= job.advisorySeq ? true : undefined;
  };
}

it('moves a job whose every delivery timed out to the DLQ', async () => {
  const job = await strandJob();
  const entry = await waitFor(() => jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.fast.echo' }).then((m) => (m?.header?.get(dlqHeaders.jobId) === job.id ? m : undefined)), 10_000, () => 'the DLQ entry');
  console.info(`R17: in the DLQ ${Date.now() - job.at} ms after the test saw the advisory`);
  expect(entry.header?.get(dlqHeaders.errorCode)).toBe('WORKER_TIMEOUT');
  expect(entry.header?.get(dlqHeaders.reason)).toBe('delivery_timeout');
  expect(entry.header?.get(dlqHeaders.attempts)).toBe(String(maxDeliver(poolDefinitions.fast)));
  await waitFor(async () => (!(await queued(job.seq)) ? true : undefined), 5_000, () => 'the job to leave its queue');
  expect(await (await openJobStatusStore(operator)).read(job.id)).toMatchObject({ status: 'dead_lettered', error: { code: 'WORKER_TIMEOUT' } });
});

it('takes a job its worker completed, whose acks were lost, off its queue without dead-lettering it', async () => {
  const id = newJobId();
  const status = await openJobStatusStore(operator);
  await status.record(id, { state: 'completed', at: new Date().toISOString(), type: 'fast.echo', pool: 'fast', attempt: 1 });
  const job = await strandJob(id);
  await waitFor(async () => (!(await queued(job.seq)) ? true : undefined), 10_000, () => 'the job to leave its queue');
  await waitFor(moverTried(job, /could not move/), 10_000, () => 'the mover to acknowledge the advisory');
  expect(await dlqEntriesOf(id)).toEqual([]);
  expect(await status.read(id)).toMatchObject({ status: 'completed' });
  status.close();
});

it('keeps the job queued while it cannot look it up, and moves it once it can again', async () => {
  await server.reload(usersWithout('worker-fast', '$JS.API.STREAM.MSG.GET.JOBS_FAST'));
  const job = await strandJob();
  await waitFor(moverTried(job, /could not move a timed-out job/), 10_000, () => 'the mover to try to look the job up');
  expect(await queued(job.seq)).toBe(true);
  expect(await dlqEntriesOf(job.id)).toEqual([]);

  const restored = Date.now();
  await server.reload();
  await waitFor(async () => ((await dlqEntriesOf(job.id)).length === 1 && !(await queued(job.seq)) ? true : undefined), 10_000, () => 'the job to move to the DLQ');
  console.info(`R17 with its lookup refused: in the DLQ ${Date.now() - restored} ms after the permission came back`);
});

it('keeps retrying a removal that fails: the job leaves its queue, and is in the DLQ once', async () => {
  await server.reload(usersWithout('worker-fast', '$JS.API.STREAM.MSG.DELETE.JOBS_FAST'));
  const job = await strandJob();
  await waitFor(moverTried(job, /could not move a timed-out job/), 10_000, () => 'the mover to try to remove the job');
  expect(await queued(job.seq)).toBe(true);

  const restored = Date.now();
  await server.reload();
  await waitFor(async () => (!(await queued(job.seq)) ? true : undefined), 10_000, () => 'the job to leave its queue');
  console.info(`R17 with its removal refused: off its queue ${Date.now() - restored} ms after the permission came back`);
  expect((await dlqEntriesOf(job.id)).map((e) => e.jobId)).toEqual([job.id]);
});

it('strands nothing while the DLQ stays full for longer than ADVISORIES keeps advisories', async () => {
  const held = (await jsm.streams.info('DLQ')).state.messages;
  for (let i = held; i < dlqCapacity; i++) await jetstream(operator).publish('dlq.fast.echo', encodeJob({ id: newJobId(), type: 'fast.echo', pool: 'fast', acceptedAt: new Date().toISOString() }));
  const jobs = [await strandJob(), await strandJob()];
  await waitFor(moverTried(jobs[0] as Stranded, /the DLQ is full/), 10_000, () => 'the mover to find the DLQ full');
  // Both original advisories expired while the DLQ stayed full; only their re-armed copies remain.
  const lastOriginal = Math.max(...jobs.map((j) => j.advisorySeq));
  await waitFor(async () => ((await jsm.streams.info('ADVISORIES')).state.first_seq > lastOriginal ? true : undefined), advisoriesKeptMs * 3, () => 'the original advisories to expire');
  for (const job of jobs) expect(await queued(job.seq)).toBe(true);

  const purged = await dlq.purge({ filter: {}, all: true }, { dryRun: false, by: 'test' });
  expect(purged.filter((o) => o.outcome === 'purged')).toHaveLength(dlqCapacity);
  const emptied = Date.now();
  await waitFor(async () => {
    for (const job of jobs) if ((await dlqEntriesOf(job.id)).length !== 1 || (await queued(job.seq))) return undefined;
    return true;
  }, 10_000, () => 'both jobs to move to the DLQ');
  console.info(`DLQ full for ${emptied - (jobs[0] as Stranded).at} ms (ADVISORIES keeps ${advisoriesKeptMs} ms): both jobs in the DLQ ${Date.now() - emptied} ms after the purge`);
}, 60_000);
