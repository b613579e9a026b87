// The one place that decides what happens to a failed job attempt (Jidoka: a job that cannot
// succeed leaves the line at once; one that might, retries after a pause, a bounded number of
// times). Pure: the pool loop only carries out the decision.
import { BreakerOpenError, CallTimeoutError, ClientError } from '#platform/breaker.ts';
import { DownstreamError } from '#platform/http/downstream.ts';

export type JobFailure = {
  /** Stable code, e.g. INVALID_PAYLOAD, DOWNSTREAM_FAILED, TIMEOUT, CIRCUIT_OPEN. */
  code: string;
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
  if (err instanceof ClientError) return { code: err.code, message, kind: 'permanent' };
  if (err instanceof BreakerOpenError) return { code: 'CIRCUIT_OPEN', message, kind: 'retryable' };
  if (err instanceof CallTimeoutError) return { code: 'TIMEOUT', message, kind: 'retryable' };
  if (err instanceof DownstreamError) return { code: err.code, message, kind: 'retryable' };
  return { code: 'INTERNAL', message, kind: 'retryable' };
}

/** `deliveries` counts this attempt (1 on the first delivery). */
export function classify(failure: JobFailure, deliveries: number, policy: RetryPolicy): Decision {
  if (failure.kind === 'permanent') return { action: 'dead_letter', reason: 'permanent', failure };
  if (deliveries >= policy.maxDeliver) return { action: 'dead_letter', reason: 'retries_exhausted', failure };
  const backoff = policy.retryBackoffMs;
  const delayMs = backoff[Math.min(Math.max(deliveries, 1), backoff.length) - 1] ?? 0;
  return { action: 'retry', delayMs, failure };
}
