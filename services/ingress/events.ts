// The ingress's refusals as business events: each owns its counter (and log line where one is
// useful). Accepted jobs are counted where every job is admitted (platform/admission/submitted.ts).
import { isAppError } from '#platform/errors.ts';
import type { Logger } from '#platform/logger.ts';
import { counter, knownLabels, labelSets, metrics, type MetricsRegistry } from '#platform/metrics.ts';
import { toAppError } from '#platform/http/errors.ts';
import { poolNames } from '#platform/pools.ts';

export type RejectReason = (typeof knownLabels.rejectReason)[number];

export function rejectReason(err: unknown): RejectReason | undefined {
  const error = isAppError(err) ? err : toAppError(err);
  switch (error.code) {
    case 'QUEUE_FULL': return 'queue_full';
    case 'RATE_LIMITED': return 'rate_limited';
    // The broker takes no jobs either way; the warning in the log says which.
    case 'BROKER_UNAVAILABLE': case 'BROKER_STORAGE_FAILED': return 'broker_unavailable';
    case 'IDEMPOTENCY_STORE_FULL': return 'idempotency_store_full';
    default: return error.status < 500 ? 'invalid' : undefined;
  }
}

export type IngressEvents = ReturnType<typeof ingressEvents>;

export function ingressEvents(registry: MetricsRegistry, logger: Logger) {
  // Every series the ingress can export exists from its start at 0 (a healthy board reads 0, not "No data").
  const rejected = counter(registry, metrics.jobsRejected, labelSets({ pool: [...poolNames, knownLabels.poolNotKnown], reason: knownLabels.rejectReason }));
  let lastBrokerWarning = 0;
  // One warning per 10 s is enough to see an outage without flooding the log.
  const warnBrokerDown = (err: unknown) => {
    if (Date.now() - lastBrokerWarning <= 10_000) return;
    lastBrokerWarning = Date.now();
    logger.warn({ err }, 'rejecting jobs: broker unavailable');
  };
  const labelsOf = (pool: string | undefined, err: unknown) => {
    const reason = rejectReason(err);
    return reason && { pool: pool ?? knownLabels.poolNotKnown, reason };
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
