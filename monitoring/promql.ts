// PromQL building blocks shared by recording rules, alert rules and dashboards, so the panel a
// newcomer looks at computes exactly what the alert fires on.
import { poolNames } from '#platform/pools.ts';

/** Pools as the metrics label them (platform/pools.ts). */
export const pools = poolNames;

/** Queue gauges come from every replica of a role with the same value: take the max, never the sum. */
export const perPool = (metric: string) => `max by (pool) (${metric})`;

export const rate = (selector: string, window: string, by = 'pool') => `sum by (${by}) (rate(${selector}[${window}]))`;

/**
 * `numerator / denominator`, where the numerator's series exist only after the first event (a
 * labelled counter is exported once incremented): "no failures yet" reads 0, not "no data".
 */
export function ratioOfEvents(numerator: string, denominator: string): string {
  return `(${orZero(numerator, denominator)}) / ${denominator}`;
}

/**
 * `events`, or 0 for every label set of `reference` while no such event happened yet. With `on`,
 * a zero only where no `events` series shares those labels (when `events` has more labels).
 */
export const orZero = (events: string, reference: string, on?: string) => `${events} or${on ? ` on (${on})` : ''} 0 * ${reference}`;

/** A latency quantile from a histogram; no value (rather than NaN) while nothing was observed. */
export function quantile(q: number, histogram: string, window: string, by = 'pool', filter = ''): string {
  const sel = filter ? `{${filter}}` : '';
  return `histogram_quantile(${q}, sum by (${by}, le) (rate(${histogram}_bucket${sel}[${window}]))) ` +
    `and on (${by}) sum by (${by}) (rate(${histogram}_count${sel}[${window}])) > 0`;
}

/** Attempts that did not succeed (retried or dead-lettered) over all attempts. */
export const jobErrorRatio = (window: string) =>
  ratioOfEvents(rate('tps_jobs_processed_total{outcome!="success"}', window), rate('tps_jobs_processed_total', window));

/** Recording rule names (level:metric:operations), so dashboards and alerts use the same series. */
export const recorded = {
  utilization: 'pool:tps_worker_utilization:ratio',
  queueFill: 'pool:tps_queue_fill:ratio',
  dlqFill: 'pool:tps_dlq_fill:ratio',
  errorRatio1m: 'pool:tps_job_errors:ratio_rate1m',
  errorRatio5m: 'pool:tps_job_errors:ratio_rate5m',
  p50: 'pool:tps_job_processing_seconds:p50_1m',
  p90: 'pool:tps_job_processing_seconds:p90_1m',
  p99: 'pool:tps_job_processing_seconds:p99_1m',
  p50Over5m: 'pool:tps_job_processing_seconds:p50_5m',
  p50Baseline: 'pool:tps_job_processing_seconds:p50_baseline1d',
  p99OverP50: 'pool:tps_job_processing_seconds:p99_over_p50_1m',
  queueWaitP90: 'pool:tps_job_queue_wait_seconds:p90_1m',
  endToEndP99: 'pool:tps_job_end_to_end_seconds:p99_1m',
  completed: 'pool:tps_jobs_completed:rate1m',
  finished: 'pool:tps_jobs_finished:rate1m',
  submitted: 'pool:tps_jobs_submitted:rate1m',
  rejected: 'pool:tps_jobs_rejected:rate1m',
  throughputVsIncoming: 'pool:tps_throughput_vs_incoming:ratio_rate1m',
  hopP50: 'caller_target:tps_downstream_request_duration_seconds:p50_1m',
  hopP99: 'caller_target:tps_downstream_request_duration_seconds:p99_1m',
  cpu: 'job:process_cpu_seconds:rate1m',
  memory: 'job:process_resident_memory:ratio',
  sloObjective: 'slo:tps_objective:ratio',
  sloErrors: (window: string) => `pool_slo:tps_errors:ratio_rate${window}`,
  sloBurn: (window: string) => `pool_slo:tps_burn_rate:rate${window}`,
} as const;
