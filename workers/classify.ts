// The one place that decides what happens to a failed job attempt (Jidoka: a job that cannot
// succeed leaves the line at once; one that might, retries after a pause, a bounded number of
// times). Pure: the pool loop only carries out the decision.
import { BreakerOpenError, CallTimeoutError, ClientError } from '#platform/breaker.ts';
import { catalogued, type FailureCodeName } from '#platform/dlq/failure-codes.ts';
import { DownstreamError } from '#platform/http/downstream.ts';

export type JobFailure = {
  /** A code of the failure catalogue (platform/dlq/failure-codes.ts, docs/errors.md). */
  code: FailureCodeName;
  message: string;
  /** permanent: retrying cannot help (bad payload, 4xx). retryable: it might work later. */
  kind: 'permanent' | 'retryable';
};

export type RetryPolicy = { retryBackoffMs: readonly number[]; maxDeliver: number };

export type Decision =
  | { action: 'retry'; delayMs: number; failure: JobFailure }
  | { action: 'dead_letter'; reason: 'permanent' | 'retries_exhausted'; failure: JobFailure };

/** A message on a job stream that is not a valid job: retrying it cannot help. */
export class BadMessageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BadMessageError';
  }
}

export function describeFailure(err: unknown): JobFailure {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof BadMessageError) return { code: 'BAD_MESSAGE', message, kind: 'permanent' };
  if (err instanceof ClientError) return answered(err.code, message, 'permanent');
  if (err instanceof BreakerOpenError) return { code: 'CIRCUIT_OPEN', message, kind: 'retryable' };
  if (err instanceof CallTimeoutError) return { code: 'TIMEOUT', message, kind: 'retryable' };
  if (err instanceof DownstreamError) return answered(err.code, message, 'retryable');
  return { code: 'INTERNAL', message, kind: 'retryable' };
}

/** A code a service answered, kept when catalogued; otherwise the kind's code, the original in the message. */
function answered(code: string, message: string, kind: JobFailure['kind']): JobFailure {
  const c = catalogued(code, kind);
  return { code: c.code, message: c.original ? `${c.original}: ${message}` : message, kind };
}

/** `deliveries` counts this attempt (1 on the first delivery). */
export function classify(failure: JobFailure, deliveries: number, policy: RetryPolicy): Decision {
  if (failure.kind === 'permanent') return { action: 'dead_letter', reason: 'permanent', failure };
  if (deliveries >= policy.maxDeliver) return { action: 'dead_letter', reason: 'retries_exhausted', failure };
  const backoff = policy.retryBackoffMs;
  const delayMs = backoff[Math.min(Math.max(deliveries, 1), backoff.length) - 1] ?? 0;
  return { action: 'retry', delayMs, failure };
}
