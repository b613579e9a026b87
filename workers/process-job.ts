// Handles one delivered job message: call the service chain, then carry out what classify()
// decides. The terminal status is stored before the message is acked or termed, so a crash in
// between means a redelivery, never a job that vanished. The worker holds the job with
// heartbeats meanwhile; a failure after the hold was lost is left to the job's next holder.
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Span } from '@opentelemetry/api';
import type { DownstreamClient } from '#platform/http/downstream.ts';
import { decodeJob, type JobMessage } from '#platform/job-message.ts';
import { recordPatienceMs, type JobStatusStore } from '#platform/job-status.ts';
import { maxDeliver, type PoolDefinition } from '#platform/pools.ts';
import type { Outbox } from '#platform/nats/outbox.ts';
import { jobTraceOf, markFailed, messagingAttributes, processTraced, type JobTrace } from '#platform/nats/trace-headers.ts';
import { BadMessageError, classify, describeFailure, type JobFailure } from './classify.ts';
import { publishDeadLetter } from '#platform/dlq/dead-letter.ts';
import { holdDelivery } from './delivery-lease.ts';
import type { WorkerEvents } from './events.ts';

export type JobContext = {
  def: PoolDefinition;
  /** The consumer's ack_wait as JetStream applies it (read from the consumer, not configured here). */
  ackWaitMs: number;
  instance: string;
  js: JetStreamClient;
  client: DownstreamClient;
  status: JobStatusStore;
  events: WorkerEvents;
  /** The connection's deferred writes: the ack goes out with the turn's other writes. */
  outbox: Outbox;
};

const jobAttributes = { type: 'tps.job.type', attempt: 'tps.job.attempt', outcome: 'tps.job.outcome' } as const;

/**
 * After the call: a status read and a DLQ publish (5 s each), then the status record, which keeps
 * trying through a leader election (recordPatienceMs, plus its last try's 5 s).
 */
const finishingMs = 10_000 + recordPatienceMs + 5_000;

/** What became of this delivery, on its span: a failed attempt is an error of this span. */
function recordOutcome(span: Span, outcome: 'success' | 'retry' | 'dead_lettered', failure?: JobFailure): void {
  span.setAttribute(jobAttributes.outcome, outcome);
  if (failure) markFailed(span, failure.code, failure.message);
}


/** One delivery of a job, inside its `process jobs.<pool>` span (the trace the ingress started). */
export function processJob(msg: JsMsg, ctx: JobContext): Promise<void> {
  return processTraced(msg, { queue: `jobs.${ctx.def.pool}`, consumerGroup: ctx.def.consumer }, (span) => handleJob(msg, ctx, span));
}

async function handleJob(msg: JsMsg, ctx: JobContext, span: Span): Promise<void> {
  const attempt = msg.info.deliveryCount;
  span.setAttribute(jobAttributes.attempt, attempt);
  const trace = jobTraceOf(msg.headers);
  let job: JobMessage;
  try {
    job = decodeJob(msg.data);
    if (job.pool !== ctx.def.pool) throw new Error(`a ${job.pool} job on the ${ctx.def.pool} queue`);
  } catch (err) {
    const type = msg.subject.replace(/^jobs\./, '');
    const failure = describeFailure(new BadMessageError(`not a valid job message: ${(err as Error).message}`, { cause: err }));
    recordOutcome(span, 'dead_lettered', failure);
    await sendToDeadLetters(msg, ctx, { id: `bad-${msg.info.streamSequence}`, type, acceptedAt: msg.time.toISOString() }, attempt, failure, 'permanent', trace);
    return;
  }

  span.setAttributes({ [messagingAttributes.messageId]: job.id, [jobAttributes.type]: job.type });
  ctx.events.started(job, attempt, trace);
  const started = performance.now();
  const lease = holdDelivery(msg, { ackWaitMs: ctx.ackWaitMs, maxHoldMs: ctx.def.attemptTimeoutMs + finishingMs });
  try {
    await ctx.client.call({ jobId: job.id, type: job.type, payload: job.payload, attempt, deadline: Date.now() + ctx.def.attemptTimeoutMs });
    await ctx.events.succeeded(job, attempt, performance.now() - started, trace);
    if (lease.lost()) ctx.events.succeededLate(job, attempt, trace);
    recordOutcome(span, 'success');
    ctx.outbox.defer(() => msg.ack());
  } catch (err) {
    const decision = classify(describeFailure(err), attempt, { retryBackoffMs: ctx.def.retryBackoffMs, maxDeliver: maxDeliver(ctx.def) });
    if (lease.lost()) {
      // JetStream has handed the job on (or will, or gives it to the advisory mover after the last
      // delivery): whoever holds it now decides. A nak here would start yet another delivery.
      recordOutcome(span, 'retry', decision.failure);
      ctx.events.abandoned(job, attempt, decision.failure, performance.now() - started, trace);
      return;
    }
    recordOutcome(span, decision.action === 'retry' ? 'retry' : 'dead_lettered', decision.failure);
    if (decision.action === 'retry') {
      ctx.events.retrying(job, attempt, decision.failure, decision.delayMs, performance.now() - started, trace);
      msg.nak(decision.delayMs);
    } else {
      await sendToDeadLetters(msg, ctx, job, attempt, decision.failure, decision.reason, trace);
    }
  } finally {
    lease.release();
  }
}

async function sendToDeadLetters(msg: JsMsg, ctx: JobContext, job: Pick<JobMessage, 'id' | 'type' | 'acceptedAt'>, attempt: number, failure: JobFailure, reason: string, trace?: JobTrace): Promise<void> {
  const now = new Date().toISOString();
  const view = await ctx.status.read(job.id).catch(() => undefined);
  try {
    await publishDeadLetter(ctx.js, msg.data, msg.headers, {
      jobId: job.id, type: job.type, pool: ctx.def.pool, failure, reason, attempts: attempt,
      firstFailure: view?.firstFailureAt ?? now, lastFailure: now,
      ...(trace ? { traceId: trace.id } : {}),
      originalSubject: msg.subject, originalSeq: msg.info.streamSequence, by: ctx.instance,
    });
    await ctx.events.deadLettered(job, attempt, failure, reason, trace);
  } catch {
    // The DLQ (or the status bucket) could not take it: leave the job queued and try again.
    // A second DLQ publish of the same message is recognised as a duplicate.
    msg.nak(ctx.def.retryBackoffMs[0] ?? 1_000);
    return;
  }
  // No reason argument: nats-server 2.9 ignores a term that carries one.
  msg.term();
}
