// Admitting a job that carries an Idempotency-Key (POST /jobs). The key's record in the
// idempotency store decides whether the request is a new job, a retry of one (the original id, at
// any time inside the key's window, long after JetStream's duplicate window), or a key reused for
// another body (422). Requests without a key never come here, so they pay nothing for it.
import { AppError } from '../errors.ts';
import { requestFingerprint, type IdempotencyRecord, type IdempotencyStore } from '../idempotency.ts';
import { newJobId } from '../job-message.ts';
import type { Pool } from '../pools.ts';
import { admit, type Admission } from './admit.ts';
import { newJob, type Submission } from './submission.ts';

/** Seconds a client waits before retrying a new key when the store is full: keys free up as they expire. */
export const storeFullRetryAfterSeconds = 60;

export type Accepted = { id: string; pool: Pool; status: string; duplicate: boolean };

export type Idempotency = {
  keys: IdempotencyStore;
  /** JetStream's duplicate window on the job streams (JOBS_DUPLICATE_WINDOW). */
  duplicateWindowMs: number;
  /** The job is stored but its record still says it is not: a retry will find it (see `held`). */
  confirmFailed(err: unknown): void;
};

type Keyed = { a: Admission; idempotency: Idempotency; key: string; submission: Submission };

export async function admitKeyed(a: Admission, idempotency: Idempotency, key: string, submission: Submission): Promise<Accepted> {
  const { jobType, payload } = submission;
  const fingerprint = requestFingerprint(jobType.name, payload);
  const record: IdempotencyRecord = { id: newJobId(), fingerprint, pool: jobType.pool, claimedAt: new Date().toISOString(), stored: false };
  const claim = await idempotency.keys.claim(key, record);
  if (claim.kind === 'full') {
    throw new AppError('IDEMPOTENCY_STORE_FULL', { retryAfterSeconds: storeFullRetryAfterSeconds });
  }
  const k: Keyed = { a, idempotency, key, submission };
  if (claim.kind === 'claimed') return publish(k, record);
  const held = claim.record;
  if (held.fingerprint !== fingerprint) {
    throw new AppError('IDEMPOTENCY_KEY_REUSED', { detail: `(first used at ${held.claimedAt} for job ${held.id})` });
  }
  if (held.stored || (await storedLongAgo(k, held))) return original(k, held);
  // Claimed, not yet confirmed: its request is still in flight, or failed (or its ingress stopped)
  // before the PubAck. Publishing the same id again is safe inside the duplicate window.
  return publish(k, held);
}

async function publish(k: Keyed, record: IdempotencyRecord): Promise<Accepted> {
  const ack = await admit(k.a, newJob(record.id, k.submission.jobType, k.submission.payload));
  await k.idempotency.keys.confirm(k.key, record).catch(k.idempotency.confirmFailed);
  return { id: record.id, pool: record.pool, status: 'accepted', duplicate: ack.duplicate };
}

/**
 * A claim older than the duplicate window that was never confirmed: JetStream would not dedupe a
 * second publish any more, so the job status decides whether the job was stored (its ingress
 * stopped between the PubAck and the confirmation). Without a status it is published again.
 */
async function storedLongAgo(k: Keyed, held: IdempotencyRecord): Promise<boolean> {
  if (Date.now() - Date.parse(held.claimedAt) < k.idempotency.duplicateWindowMs) return false;
  if (!(await k.a.jobStatus.read(held.id).catch(() => undefined))) return false;
  await k.idempotency.keys.confirm(k.key, held).catch(k.idempotency.confirmFailed);
  return true;
}

async function original(k: Keyed, held: IdempotencyRecord): Promise<Accepted> {
  // The status may have been evicted or expired (it is kept for less time than the key): then the
  // record alone answers, and the job was accepted.
  const view = await k.a.jobStatus.read(held.id).catch(() => undefined);
  return { id: held.id, pool: held.pool, status: view?.status ?? 'accepted', duplicate: true };
}
