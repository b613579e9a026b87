// The ingress's business events, each owning its counter (and log line where one is useful).
import { isAppError } from '#platform/errors.ts';
import type { Logger } from '#platform/logger.ts';
import { counter, knownLabels, labelSets, metrics, type MetricsRegistry } from '#platform/metrics.ts';
import { toAppError } from '#platform/http/errors.ts';
import { jobCatalogue } from '#platform/job-catalogue.ts';
import { poolNames } from '#platform/pools.ts';

export type RejectReason = (typeof knownLabels.rejectReason)[number];

export function rejectReason(err: unknown): RejectReason | undefined {
  const error = isAppError(err) ? err : toAppError(err);
  switch (error.code) {
    case 'QUEUE_FULL': return 'queue_full';
    case 'RATE_LIMITED': return 'rate_limited';
    case 'BROKER_UNAVAILABLE': return 'broker_unavailable';
    case 'IDEMPOTENCY_STORE_FULL': return 'idempotency_store_full';
    default: return error.status < 500 ? 'invalid' : undefined;
  }
}

export function ingressEvents(registry: MetricsRegistry, logger: Logger) {
  // Every series the ingress can export exists from its start at 0 (a healthy board reads 0, not "No data").
  const submitted = counter(registry, metrics.jobsSubmitted, Object.values(jobCatalogue).map((t) => ({ pool: t.pool, type: t.name })));
  const rejected = counter(registry, metrics.jobsRejected, labelSets({ pool: [...poolNames, knownLabels.poolNotKnown], reason: knownLabels.rejectReason }));
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
