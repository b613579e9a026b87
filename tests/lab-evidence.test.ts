// A lab report's trace evidence from the DLQ, on a real nats-server: the trace ids of jobs
// dead-lettered since the lab started, whether still in the DLQ or replayed from it meanwhile (a
// replay removes the entry; its audit event keeps the trace id), older ones left out, and a note
// when the dead letters carry no trace. (The slowest traced observations: labs.test.ts and
// exam.test.ts, against traced role processes.)
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gatherEvidence } from '#operator/labs/evidence.ts';
import { publishDeadLetter } from '#platform/dlq/dead-letter.ts';
import { openDlqOperations, type DlqOperations } from '#platform/dlq/operations.ts';
import { encodeJob, newJobId } from '#platform/job-message.ts';
import { recentEvents } from '#platform/nats/recent-events.ts';
import { provisioned } from '#devenv/roles.ts';
import { startNatsServer, type NatsServerHandle } from '#devenv/nats-server.ts';

let server: NatsServerHandle;
let nc: NatsConnection;
let js: JetStreamClient;
let dlq: DlqOperations;
const events = (subject: string, since: Date) => recentEvents(nc, subject, { sinceMs: Date.now() - since.getTime() + 1_000, limit: 1_000 });

beforeAll(async () => {
  server = await startNatsServer();
  nc = await provisioned(server.url);
  js = jetstream(nc);
  dlq = await openDlqOperations(nc);
});
afterAll(async () => {
  dlq?.close();
  await nc?.close();
  await server?.dispose();
});

/** A moment after everything stored so far and before anything stored next (the clock moves on). */
function nextMillisecond(): Date {
  const now = Date.now();
  while (Date.now() <= now) { /* spin to the next millisecond */ }
  return new Date(Date.now());
}

async function deadLetter(traceId?: string): Promise<string> {
  const id = newJobId();
  const now = new Date().toISOString();
  await publishDeadLetter(js, encodeJob({ id, type: 'fast.echo', pool: 'fast', acceptedAt: now }), undefined, {
    jobId: id, type: 'fast.echo', pool: 'fast', failure: { code: 'TIMEOUT', message: 'test' }, reason: 'retries_exhausted',
    attempts: 4, firstFailure: now, lastFailure: now, originalSubject: 'jobs.fast.echo', originalSeq: 1, by: 'test', ...(traceId ? { traceId } : {}),
  });
  return id;
}

it('names the traces of jobs dead-lettered since the start, replayed or still waiting, and notes untraced ones', async () => {
  const before = await deadLetter('0'.repeat(31) + '1');
  const since = nextMillisecond();
  const replayedTrace = 'a'.repeat(32);
  const waitingTrace = 'b'.repeat(32);
  const replayed = await deadLetter(replayedTrace);
  const waiting = await deadLetter(waitingTrace);
  const [outcome] = await dlq.replay({ filter: { jobId: replayed } }, { ratePerSecond: 100, dryRun: false, by: 'test' });
  expect(outcome?.outcome).toBe('replayed');
  const sinceLast = nextMillisecond();
  await deadLetter();

  const evidence = await gatherEvidence({ targets: [], dlq, events }, since);
  expect(evidence.deadLettered.map((d) => [d.jobId, d.traceId, d.replayedAs !== undefined])).toEqual([
    [replayed, replayedTrace, true], [waiting, waitingTrace, false],
  ]);
  expect(evidence.deadLettered.map((d) => d.jobId)).not.toContain(before);
  expect(evidence.notes).toEqual([expect.stringContaining('No traced observations since the lab started')]);

  const untraced = await gatherEvidence({ targets: [], dlq, events }, sinceLast);
  expect(untraced.deadLettered).toEqual([]);
  expect(untraced.notes).toContain('1 dead-lettered job(s) since the lab started, none with a trace id (the roles were not tracing, or a staged history left them).');
});
