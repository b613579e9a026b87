// POST /jobs with an Idempotency-Key. The key's record in the idempotency store decides whether the
// request is a new job, a retry of one (the original id, at any time inside the key's window, long
// after JetStream's duplicate window), or a key reused for another body (422). Requests without a
// key never come here, so they pay nothing for it.
import { AppError } from '#platform/errors.ts';
import { requestFingerprint, type IdempotencyRecord, type IdempotencyStore } from '#platform/idempotency.ts';
import { newJobId } from '#platform/job-message.ts';
import type { JobStatusStore } from '#platform/job-status.ts';
import type { PubAck } from '#platform/nats/jetstream-publisher.ts';
import type { Pool } from '#platform/pools.ts';

/** Seconds a client waits before retrying a new key when the store is full: keys free up as they expire. */
export const storeFullRetryAfterSeconds = 60;

export type KeyedJob = { type: string; pool: Pool; payload: unknown };
export type Accepted = { id: string; pool: Pool; status: string; duplicate: boolean };

export type KeyedSubmit = {
  keys: IdempotencyStore;
  jobStatus: JobStatusStore;
  /** JetStream's duplicate window on the job streams (JOBS_DUPLICATE_WINDOW). */
  duplicateWindowMs: number;
  /** Publishes the job under this id and waits for JetStream's PubAck (the route's own publish). */
  store(id: string): Promise<PubAck>;
  /** The job is stored but its record still says it is not: a retry will find it (see `held`). */
  confirmFailed(err: unknown): void;
};

export async function submitKeyed(s: KeyedSubmit, key: string, job: KeyedJob): Promise<Accepted> {
  const fingerprint = requestFingerprint(job.type, job.payload);
  const record: IdempotencyRecord = { id: newJobId(), fingerprint, pool: job.pool, claimedAt: new Date().toISOString(), stored: false };
  const claim = await s.keys.claim(key, record);
  if (claim.kind === 'full') {
    throw new AppError('IDEMPOTENCY_STORE_FULL', { retryAfterSeconds: storeFullRetryAfterSeconds });
  }
  if (claim.kind === 'claimed') return publish(s, key, record);
  const held = claim.record;
  if (held.fingerprint !== fingerprint) {
    throw new AppError('IDEMPOTENCY_KEY_REUSED', { detail: `(first used at ${held.claimedAt} for job ${held.id})` });
  }
  if (held.stored || (await storedLongAgo(s, key, held))) return original(s, held);
  // Claimed, not yet confirmed: its request is still in flight, or failed (or its ingress stopped)
  // before the PubAck. Publishing the same id again is safe inside the duplicate window.
  return publish(s, key, held);
}

async function publish(s: KeyedSubmit, key: string, record: IdempotencyRecord): Promise<Accepted> {
  const ack = await s.store(record.id);
  await s.keys.confirm(key, record).catch(s.confirmFailed);
  return { id: record.id, pool: record.pool, status: 'accepted', duplicate: ack.duplicate };
}

/**
 * A claim older than the duplicate window that was never confirmed: JetStream would not dedupe a
 * second publish any more, so the job status decides whether the job was stored (its ingress
 * stopped between the PubAck and the confirmation). Without a status it is published again.
 */
async function storedLongAgo(s: KeyedSubmit, key: string, held: IdempotencyRecord): Promise<boolean> {
  if (Date.now() - Date.parse(held.claimedAt) < s.duplicateWindowMs) return false;
  if (!(await s.jobStatus.read(held.id).catch(() => undefined))) return false;
  await s.keys.confirm(key, held).catch(s.confirmFailed);
  return true;
}

async function original(s: KeyedSubmit, held: IdempotencyRecord): Promise<Accepted> {
  // The status may have been evicted or expired (it is kept for less time than the key): then the
  // record alone answers, and the job was accepted.
  const view = await s.jobStatus.read(held.id).catch(() => undefined);
  return { id: held.id, pool: held.pool, status: view?.status ?? 'accepted', duplicate: true };
}
