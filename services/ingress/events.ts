// The ingress's business events, each owning its counter (and log line where one is useful).
import { isAppError } from '#platform/errors.ts';
import type { Logger } from '#platform/logger.ts';
import { counter, metrics, type MetricsRegistry } from '#platform/metrics.ts';
import { toAppError } from '#platform/http/errors.ts';

export type RejectReason = 'queue_full' | 'rate_limited' | 'invalid' | 'broker_unavailable';

export function rejectReason(err: unknown): RejectReason | undefined {
  const error = isAppError(err) ? err : toAppError(err);
  switch (error.code) {
    case 'QUEUE_FULL': return 'queue_full';
    case 'RATE_LIMITED': return 'rate_limited';
    case 'BROKER_UNAVAILABLE': return 'broker_unavailable';
    default: return error.status < 500 ? 'invalid' : undefined;
  }
}

export function ingressEvents(registry: MetricsRegistry, logger: Logger) {
  const submitted = counter(registry, metrics.jobsSubmitted);
  const rejected = counter(registry, metrics.jobsRejected);
  const acceptedByType = new Map<string, () => void>();
  let lastBrokerWarning = 0;
  // One warning per 10 s is enough to see an outage without flooding the log.
  const warnBrokerDown = (err: unknown) => {
    if (Date.now() - lastBrokerWarning <= 10_000) return;
    lastBrokerWarning = Date.now();
    logger.warn({ err }, 'rejecting jobs: broker unavailable');
  };
  const labelsOf = (pool: string | undefined, err: unknown) => {
    const reason = rejectReason(err);
    return reason && { pool: pool ?? 'unknown', reason };
  };
  /** The counter (and log line) of one kind of refusal, bound once: its counter increment is deferred. */
  function rejection(pool: string | undefined, err: unknown): () => void {
    const labels = labelsOf(pool, err);
    if (!labels) return () => {};
    const count = rejected.bind(labels);
    if (labels.reason !== 'broker_unavailable') return count;
    return () => { count(); warnBrokerDown(err); };
  }
  return {
    accepted(pool: string, type: string): void {
      // Job types come from the catalogue, so there are few of them to bind.
      let count = acceptedByType.get(type);
      if (count === undefined) acceptedByType.set(type, (count = submitted.bind({ pool, type })));
      count();
    },
    /** For the paths that refuse at full speed: bind once, call per refusal. */
    rejection,
    rejected(pool: string | undefined, err: unknown): void {
      const labels = labelsOf(pool, err);
      if (!labels) return;
      rejected.inc(labels);
      if (labels.reason === 'broker_unavailable') warnBrokerDown(err);
    },
  };
}
