// Alert rules with the handbook's thresholds and severities (section 5.1 CRITICAL / HIGH /
// MEDIUM, panel ranges of section 2.2). Every alert has a firing and a quiet case in
// prometheus/tests/ (promtool test rules).
import { circuitStates, handbook as h } from '../handbook.ts';
import { recorded as r } from '../promql.ts';
import { runbook, type AlertRule, type RuleGroup } from './types.ts';

const pct = (ratio: number) => `${+(ratio * 100).toFixed(2)} %`;

function alert(name: string, a: Omit<AlertRule, 'alert' | 'annotations'> & { summary: string; description: string; anchor: string }): AlertRule {
  const { summary, description, anchor, ...rest } = a;
  return { alert: name, ...rest, annotations: { summary, description, runbook: runbook(anchor) } };
}

const circuits: AlertRule[] = [
  alert('TpsCircuitOpen', {
    // Open, it half-opens every BREAKER_RESET_MS to probe and reopens when the probe fails: "open
    // within every minute" is "still open". A breaker left half-open by an idle queue is not.
    expr: `max by (circuit) (max_over_time(tps_circuit_state[1m])) == ${circuitStates.open}`, for: h.circuitOpenFor, labels: { severity: 'critical' },
    summary: 'Circuit {{ $labels.circuit }} open for over 5 minutes',
    description: 'The breaker has kept (re)opening for more than 5 minutes: the downstream service is broken, not just slow for a moment (handbook 5.1: CRITICAL).',
    anchor: 'circuit-breaker-status',
  }),
  alert('TpsCircuitFlapping', {
    expr: `sum by (circuit) (increase(tps_circuit_transitions_total{to="open"}[15m])) > ${h.circuitFlapsPer15m}`, labels: { severity: 'medium' },
    summary: 'Circuit {{ $labels.circuit }} keeps opening and closing',
    description: 'Opened {{ $value | humanize }} times in 15 minutes: the downstream service is unstable (handbook 6.1).',
    anchor: 'circuit-breaker-status',
  }),
];

const errors: AlertRule[] = [
  alert('TpsAllJobsFailing', {
    expr: `${r.errorRatio1m} >= ${h.errorRatio.all}`, for: '1m', labels: { severity: 'critical' },
    summary: 'Every {{ $labels.pool }} job attempt is failing',
    description: 'Error rate 100 % for a minute (handbook 5.1: CRITICAL).', anchor: 'error-rate',
  }),
  alert('TpsErrorRateHigh', {
    expr: `${r.errorRatio1m} > ${h.errorRatio.high}`, for: '2m', labels: { severity: 'high' },
    summary: '{{ $labels.pool }} error rate above 5 %', description: `{{ $value | humanizePercentage }} of job attempts fail (handbook 5.1: error rate > ${pct(h.errorRatio.high)} is HIGH).`,
    anchor: 'error-rate',
  }),
  alert('TpsErrorRateElevated', {
    expr: `${r.errorRatio5m} > ${h.errorRatio.serious}`, for: '5m', labels: { severity: 'medium' },
    summary: '{{ $labels.pool }} error rate above 1 %', description: `{{ $value | humanizePercentage }} of job attempts fail over 5 minutes (handbook panel 4: above ${pct(h.errorRatio.serious)} is serious).`,
    anchor: 'error-rate',
  }),
  alert('TpsErrorRateAboveNormal', {
    expr: `${r.errorRatio5m} > ${h.errorRatio.normal}`, for: '10m', labels: { severity: 'low' },
    summary: '{{ $labels.pool }} error rate above 0.1 %', description: `{{ $value | humanizePercentage }} of job attempts fail (handbook panel 4: normal is below ${pct(h.errorRatio.normal)}; investigate).`,
    anchor: 'error-rate',
  }),
];

const queues: AlertRule[] = [
  alert('TpsQueueFullAndFailing', {
    expr: `${r.queueFill} >= ${h.queueFill.full} and on (pool) ${r.errorRatio5m} > ${h.errorRatio.serious}`, for: '1m', labels: { severity: 'critical' },
    summary: '{{ $labels.pool }} queue full while jobs fail', description: 'Queue at 100 % and error rate above 1 %: a cascading failure (handbook 5.1: CRITICAL).',
    anchor: 'queue-depth',
  }),
  alert('TpsQueueFull', {
    expr: `${r.queueFill} >= ${h.queueFill.full}`, for: '1m', labels: { severity: 'high' },
    summary: '{{ $labels.pool }} queue full: new jobs are refused', description: 'The queue is at 100 % of its capacity and the ingress answers 503 QUEUE_FULL (handbook 5.1: HIGH).',
    anchor: 'queue-depth',
  }),
  alert('TpsQueueNearCapacity', {
    expr: `${r.queueFill} >= ${h.queueFill.nearFull}`, for: '2m', labels: { severity: 'medium' },
    summary: '{{ $labels.pool }} queue above 80 %', description: 'Queue at {{ $value | humanizePercentage }} of capacity (handbook 5.1: queue at 80 % is MEDIUM; plan to scale).',
    anchor: 'queue-depth',
  }),
  alert('TpsIncomingStopped', {
    // "After steady traffic": at some point in the last hour, jobs had arrived in every 5-minute
    // window of the 30 minutes before (30 one-minute steps), so a short burst of load does not count.
    expr: 'sum(rate(tps_jobs_submitted_total[5m])) == 0 and on () max_over_time((count_over_time((sum(rate(tps_jobs_submitted_total[5m])) > 0)[30m:1m]) >= 30)[1h:1m])',
    labels: { severity: 'critical' },
    summary: 'No jobs arrive any more', description: 'After steady traffic, no job was accepted for 5 minutes: someone turned off traffic, or clients cannot reach the ingress (handbook 5.1: CRITICAL).',
    anchor: 'throughput',
  }),
];

const latency: AlertRule[] = [
  alert('TpsLatencyOutliers', {
    expr: `${r.p99OverP50} > ${h.p99OverP50}`, for: '5m', labels: { severity: 'medium' },
    summary: '{{ $labels.pool }} p99 more than 10x p50', description: 'p99 is {{ $value | humanize }}x p50: slow outliers (handbook 3.1); look at the slowest traces (exemplars).',
    anchor: 'latency-distribution',
  }),
  alert('TpsLatencySpike', {
    expr: `${r.p50Over5m} > ${h.latencyOverBaseline.high} * ${r.p50Baseline}`, for: '5m', labels: { severity: 'high' },
    summary: '{{ $labels.pool }} latency more than 2x its baseline', description: 'p50 over 5 minutes is more than twice the day\'s median p50 (handbook 5.1: HIGH, users notice).',
    anchor: 'latency-distribution',
  }),
  alert('TpsLatencyAboveBaseline', {
    expr: `${r.p50Over5m} > ${h.latencyOverBaseline.medium} * ${r.p50Baseline}`, for: '10m', labels: { severity: 'medium' },
    summary: '{{ $labels.pool }} latency 50 % above its baseline', description: 'p50 over 5 minutes is more than 1.5x the day\'s median p50 (handbook 5.1: MEDIUM, slight slowdown).',
    anchor: 'latency-distribution',
  }),
];

const capacity: AlertRule[] = [
  alert('TpsDlqGrowing', {
    expr: 'max by (pool) (delta(tps_dlq_depth[5m])) > 0', for: '15m', labels: { severity: 'medium' },
    summary: '{{ $labels.pool }} dead-letter queue keeps growing', description: 'Jobs kept arriving in the DLQ for 15 minutes: something is systematically broken (handbook 3.1 metric 6). `tps dlq list` shows why.',
    anchor: 'dead-letter-queue',
  }),
  alert('TpsDlqNearCapacity', {
    expr: `${r.dlqFill} >= ${h.dlqFill.nearFull}`, for: '5m', labels: { severity: 'high' },
    summary: '{{ $labels.pool }} dead-letter queue above 80 %', description: 'The DLQ never evicts: when it is full, failed jobs stay in their queue and block it. Replay or purge it.',
    anchor: 'dead-letter-queue',
  }),
  alert('TpsDlqBlocked', {
    // A job whose last delivery failed normally enters the DLQ within seconds; 5 minutes is stuck.
    expr: 'max by (pool) (tps_dlq_blocked_jobs) > 0', for: '5m', labels: { severity: 'high' },
    summary: '{{ $labels.pool }}: {{ $value }} failed jobs cannot enter the DLQ',
    description: 'Jobs that failed for good have waited 5 minutes to be dead-lettered: the DLQ is full (or the workers cannot write to it). Nothing is lost, but they stay in their queue, taking its capacity, until the DLQ has room: replay or purge it (`tps dlq list`).',
    anchor: 'dead-letter-queue',
  }),
  alert('TpsJobStatusNearEviction', {
    expr: `max(tps_job_status_bytes) / max(tps_job_status_limit_bytes) >= ${h.storeFill.nearFull}`, for: '2m', labels: { severity: 'medium' },
    summary: 'Job status bucket above 80 %: it is about to evict', description: 'At its limit tps_jobs drops its oldest statuses: GET /jobs/:id answers 404 for jobs that exist and tps audit counts them lost. Jobs themselves are not affected.',
    anchor: 'job-status-and-idempotency-stores',
  }),
  alert('TpsIdempotencyStoreNearFull', {
    expr: `max(tps_idempotency_bytes) / max(tps_idempotency_limit_bytes) >= ${h.storeFill.nearFull}`, for: '5m', labels: { severity: 'high' },
    summary: 'Idempotency store above 80 %', description: 'Full, it refuses jobs with a new Idempotency-Key (503 IDEMPOTENCY_STORE_FULL) until old keys expire. Raise IDEMPOTENCY_MAX_BYTES (then tps provision) before it fills.',
    anchor: 'job-status-and-idempotency-stores',
  }),
  alert('TpsWorkersSaturated', {
    expr: `avg_over_time(${r.utilization}[5m]) >= ${h.utilization.saturated}`, for: '1m', labels: { severity: 'high' },
    summary: '{{ $labels.pool }} workers at 100 %', description: 'Every slot of the pool was busy for 5 minutes: the pool is at capacity (handbook panel 3); scale it, or find the bottleneck downstream.',
    anchor: 'worker-utilization',
  }),
  alert('TpsWorkersScalingUp', {
    expr: 'sum by (pool) (increase(tps_autoscaler_decisions_total{direction="up"}[15m])) >= 3', for: '5m', labels: { severity: 'high' },
    summary: '{{ $labels.pool }} workers keep scaling up', description: 'The autoscaler scaled up {{ $value | humanize }} times in 15 minutes (handbook 4.5 / 5.1: HIGH): load is rising or a bottleneck eats the new slots.',
    anchor: 'autoscaler',
  }),
  alert('TpsAutoscalerBottleneck', {
    expr: 'max by (pool) (tps_autoscaler_bottleneck) == 1', for: '5m', labels: { severity: 'medium' },
    summary: '{{ $labels.pool }}: more slots no longer help', description: 'The autoscaler holds because throughput stopped rising with slots: the bottleneck is downstream (handbook 4.5).',
    anchor: 'autoscaler',
  }),
];

const platform: AlertRule[] = [
  alert('TpsTargetDown', {
    expr: 'up == 0', for: '1m', labels: { severity: 'high' },
    summary: '{{ $labels.job }} ({{ $labels.instance }}) is not answering /metrics', description: 'Prometheus cannot scrape it: the process is down or hung, and its panels go blank.',
    anchor: 'scrape-targets',
  }),
  alert('TpsChaosFaultActive', {
    expr: 'max by (target, fault) (tps_chaos_fault_active) == 1', labels: { severity: 'info' },
    summary: 'Chaos fault {{ $labels.fault }} active on {{ $labels.target }}', description: 'A deliberate fault is on (tps chaos): the other alerts may be its effect.',
    anchor: 'chaos',
  }),
];

export const alertGroups: RuleGroup<AlertRule>[] = [
  { name: 'tps-andon', rules: [...circuits, ...errors, ...queues, ...latency, ...capacity, ...platform] },
];
