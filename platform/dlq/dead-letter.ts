// Dead-lettering: publish the job to the DLQ stream with what an operator needs to act on it
// (error, attempts, first and last failure, trace id), wait for the PubAck, and only then take
// it off its queue. If the DLQ cannot take it, the job stays queued: nothing is dropped. The workers
// dead-letter through it, and so does an exam's setup staging a weekend's dead letters.
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { dlqSubject } from '../nats/subjects.ts';
import { dlqHeaders } from './headers.ts';

export { dlqHeaders };

export type DeadLetterEntry = {
  jobId: string;
  type: string;
  pool: string;
  /** A code of the failure catalogue (failure-codes.ts) and what happened. */
  failure: { code: string; message: string };
  reason: string;
  attempts: number;
  firstFailure: string;
  lastFailure: string;
  traceId?: string;
  originalSubject: string;
  originalSeq: number;
  by: string;
};

/** The DLQ message headers: the job's own headers (trace context) plus the failure record. */
export function deadLetterHeaders(original: MsgHdrs | undefined, entry: DeadLetterEntry): MsgHdrs {
  const h = natsHeaders();
  for (const key of original?.keys() ?? []) {
    if (key.toLowerCase() === 'nats-msg-id') continue;
    for (const value of original?.values(key) ?? []) h.append(key, value);
  }
  h.set(dlqHeaders.errorCode, entry.failure.code);
  h.set(dlqHeaders.errorMessage, entry.failure.message.replace(/[\r\n]+/g, ' ').slice(0, 1000));
  h.set(dlqHeaders.reason, entry.reason);
  h.set(dlqHeaders.attempts, String(entry.attempts));
  h.set(dlqHeaders.firstFailure, entry.firstFailure);
  h.set(dlqHeaders.lastFailure, entry.lastFailure);
  if (entry.traceId) h.set(dlqHeaders.traceId, entry.traceId);
  h.set(dlqHeaders.jobId, entry.jobId);
  h.set(dlqHeaders.jobType, entry.type);
  h.set(dlqHeaders.pool, entry.pool);
  h.set(dlqHeaders.originalSubject, entry.originalSubject);
  h.set(dlqHeaders.originalSeq, String(entry.originalSeq));
  h.set(dlqHeaders.by, entry.by);
  return h;
}

/** Publishes to the DLQ and awaits the PubAck. One entry per job message, even if retried. */
export async function publishDeadLetter(js: JetStreamClient, data: Uint8Array, original: MsgHdrs | undefined, entry: DeadLetterEntry): Promise<void> {
  await js.publish(dlqSubject(entry.type), data, {
    headers: deadLetterHeaders(original, entry),
    msgID: `${entry.jobId}:${entry.originalSeq}`,
    timeout: 5_000,
  });
}
