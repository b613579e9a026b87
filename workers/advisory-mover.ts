// The safety net for jobs whose last delivery ended without an outcome (a worker crashed or hung
// on its last attempt, or could not dead-letter the job because the DLQ was full): JetStream stops
// delivering them and says so in a MAX_DELIVERIES advisory, which the ADVISORIES stream keeps.
// This moves each such job to the DLQ and off its queue.
//
// A move counts as done only when the job is in the DLQ and off its queue, or is no longer in its
// queue at all. Any other failure (NATS away, a permission missing, the DLQ full) leaves the
// advisory unacknowledged so the move is tried again; and an advisory that is still failing when
// half of ADVISORIES' max_age has passed is re-published first (re-armed), so that a DLQ full for
// longer than ADVISORIES keeps advisories strands nothing.
import { jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { decodeJob } from '#platform/job-message.ts';
import type { JobStatusStore } from '#platform/job-status.ts';
import type { Logger } from '#platform/logger.ts';
import { isMessageGone, isStreamFull } from '#platform/nats/stream-errors.ts';
import { streams } from '#platform/nats/subjects.ts';
import { jobTraceOf } from '#platform/nats/trace-headers.ts';
import { dlqMoverConsumer } from '#platform/nats/topology.ts';
import { poolDefinitions, type Pool } from '#platform/pools.ts';
import type { JobFailure } from './classify.ts';
import { publishDeadLetter } from '#platform/dlq/dead-letter.ts';
import type { WorkerEvents } from './events.ts';

const advisorySchema = z.object({ stream: z.string(), stream_seq: z.number().int(), deliveries: z.number().int() });

type Advisory = z.infer<typeof advisorySchema>;
type MoverDeps = { logger: Logger; instance: string; events: WorkerEvents; status: JobStatusStore };

/** How the mover paces itself, from how long ADVISORIES keeps an advisory (its max_age; 0: forever). */
function moverTiming(keptMs: number): { retryMs: number; rearmAfterMs: number } {
  if (keptMs <= 0) return { retryMs: 5_000, rearmAfterMs: Infinity };
  return { retryMs: Math.min(5_000, keptMs / 10), rearmAfterMs: keptMs / 2 };
}

export async function startAdvisoryMover(nc: NatsConnection, js: JetStreamClient, pool: Pool, deps: MoverDeps): Promise<() => void> {
  const jsm = await jetstreamManager(nc);
  const consumer = await js.consumers.get(streams.advisories, dlqMoverConsumer(pool));
  const timing = moverTiming((await jsm.streams.info(streams.advisories)).config.max_age / 1e6);
  const move = jobMover(jsm, js, pool, deps);
  const failures = failureLog(deps.logger);
  let stopped = false;

  async function handle(m: JsMsg): Promise<void> {
    const parsed = advisorySchema.safeParse(parseJson(m.data));
    if (!parsed.success) { m.term(); return; }
    try {
      await move(parsed.data);
      failures.moved();
      m.ack();
    } catch (err) {
      failures.failed(err, parsed.data);
      if (Date.now() - m.time.getTime() < timing.rearmAfterMs) { m.nak(timing.retryMs); return; }
      // A fresh copy at the end of the stream, then the old one can go; a retried copy is a duplicate.
      await js.publish(m.subject, m.data, { msgID: `rearm:${m.info.streamSequence}`, timeout: 5_000 }).then(
        () => m.ack(),
        (rearmErr: unknown) => { deps.logger.warn({ err: rearmErr, advisory: parsed.data }, 'could not re-arm an ageing advisory; will retry'); m.nak(timing.retryMs); },
      );
    }
  }

  void (async () => {
    while (!stopped) {
      try {
        const batch = await consumer.fetch({ max_messages: 10, expires: 2_000 });
        for await (const m of batch) await handle(m);
      } catch (err) {
        if (!stopped) {
          deps.logger.warn({ err }, 'advisory pull failed; retrying');
          await new Promise((resolve) => setTimeout(resolve, 1_000));
        }
      }
    }
  })();
  return () => { stopped = true; };
}

/** Moves one timed-out job: DLQ (awaiting the PubAck), its status, then off its queue. Throws unless done. */
function jobMover(jsm: JetStreamManager, js: JetStreamClient, pool: Pool, deps: MoverDeps) {
  return async (advisory: Advisory): Promise<void> => {
    if (advisory.stream !== poolDefinitions[pool].stream) return;
    // null only for "no such message": acked or dead-lettered by its worker meanwhile. Any other
    // error means "could not look", and the job may still be there: it propagates.
    const stored = await jsm.streams.getMessage(advisory.stream, { seq: advisory.stream_seq });
    if (!stored) return;
    const job = (() => { try { return decodeJob(stored.data); } catch { return undefined; } })();
    const removeFromQueue = () => jsm.streams.deleteMessage(advisory.stream, advisory.stream_seq).catch((err: unknown) => {
      if (!isMessageGone(err)) throw err;
    });
    if (job && (await deps.status.read(job.id))?.status === 'completed') {
      // Its worker finished it and stored so, and only the acks were lost (a broker failing over):
      // dead-lettering it would show a completed job as failed, and a replay would run it twice.
      await removeFromQueue();
      return;
    }
    const now = new Date().toISOString();
    const failure: JobFailure = { code: 'WORKER_TIMEOUT', message: `no worker finished the job within ack_wait on its last delivery (${advisory.deliveries} deliveries)`, kind: 'retryable' };
    const type = job?.type ?? stored.subject.replace(/^jobs\./, '');
    const trace = jobTraceOf(stored.header);
    await publishDeadLetter(js, stored.data, stored.header, {
      jobId: job?.id ?? `seq-${advisory.stream_seq}`, type, pool, failure, reason: 'delivery_timeout', attempts: advisory.deliveries,
      firstFailure: now, lastFailure: now, ...(trace ? { traceId: trace.id } : {}),
      originalSubject: stored.subject, originalSeq: advisory.stream_seq, by: deps.instance,
    });
    if (job) await deps.events.deadLettered(job, advisory.deliveries, failure, 'delivery_timeout', trace);
    // A failed delete leaves the job queued (undeliverable, taking a place): retry the whole move;
    // its DLQ publish is then recognised as a duplicate.
    await removeFromQueue();
  };
}

/** One warning when the DLQ fills and one line when it takes jobs again, not one per retry. */
function failureLog(logger: Logger) {
  let dlqFull = false;
  return {
    failed(err: unknown, advisory: Advisory): void {
      if (!isStreamFull(err)) {
        logger.warn({ err, advisory }, 'could not move a timed-out job to the DLQ; will retry');
        return;
      }
      if (!dlqFull) logger.warn({ advisory }, 'the DLQ is full: jobs whose last delivery failed stay in their queue until it has room (tps dlq list, replay or purge)');
      dlqFull = true;
    },
    moved(): void {
      if (dlqFull) logger.info('the DLQ takes jobs again');
      dlqFull = false;
    },
  };
}

function parseJson(data: Uint8Array): unknown {
  try { return JSON.parse(new TextDecoder().decode(data)); } catch { return undefined; }
}
