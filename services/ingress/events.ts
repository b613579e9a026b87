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
  let lastBrokerWarning = 0;
  return {
    accepted(pool: string, type: string): void {
      submitted.inc({ pool, type });
    },
    rejected(pool: string | undefined, err: unknown): void {
      const reason = rejectReason(err);
      if (!reason) return;
      rejected.inc({ pool: pool ?? 'unknown', reason });
      // One warning per 10 s is enough to see an outage without flooding the log.
      if (reason === 'broker_unavailable' && Date.now() - lastBrokerWarning > 10_000) {
        lastBrokerWarning = Date.now();
        logger.warn({ err }, 'rejecting jobs: broker unavailable');
      }
    },
  };
}
