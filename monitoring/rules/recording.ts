// Recording rules: the handbook's derived numbers (utilization, queue fill, error ratio,
// p50/p90/p99, throughput vs incoming, CPU and memory %) computed once, for panels and alerts.
import { jobErrorRatio, orZero, perPool, quantile, rate, recorded as r } from '../promql.ts';
import type { RecordingRule, RuleGroup } from './types.ts';

const processing = 'tps_job_processing_seconds';

const pools: RecordingRule[] = [
  // Each worker process has its own slots, so slots and busy add up across replicas.
  { record: r.utilization, expr: 'sum by (pool) (tps_worker_busy) / sum by (pool) (tps_worker_slots)' },
  { record: r.queueFill, expr: `${perPool('tps_queue_depth')} / ${perPool('tps_queue_capacity')}` },
  { record: r.dlqFill, expr: `${perPool('tps_dlq_depth')} / ${perPool('tps_dlq_capacity')}` },
  { record: r.errorRatio1m, expr: jobErrorRatio('1m') },
  { record: r.errorRatio5m, expr: jobErrorRatio('5m') },
];

const latency: RecordingRule[] = [
  { record: r.p50, expr: quantile(0.5, processing, '1m') },
  { record: r.p90, expr: quantile(0.9, processing, '1m') },
  { record: r.p99, expr: quantile(0.99, processing, '1m') },
  { record: r.p50Over5m, expr: quantile(0.5, processing, '5m') },
  // The median of a day of medians: a spike shorter than half the history does not move it.
  { record: r.p50Baseline, expr: `quantile_over_time(0.5, ${r.p50Over5m}[1d])` },
  { record: r.p99OverP50, expr: `${r.p99} / ${r.p50}` },
  { record: r.queueWaitP90, expr: quantile(0.9, 'tps_job_queue_wait_seconds', '1m') },
  { record: r.endToEndP99, expr: quantile(0.99, 'tps_job_end_to_end_seconds', '1m') },
  { record: r.hopP50, expr: quantile(0.5, 'tps_downstream_request_duration_seconds', '1m', 'caller, target') },
  { record: r.hopP99, expr: quantile(0.99, 'tps_downstream_request_duration_seconds', '1m', 'caller, target') },
];

const submitted = rate('tps_jobs_submitted_total', '1m');
const attempts = rate('tps_jobs_processed_total', '1m');
const flow: RecordingRule[] = [
  { record: r.submitted, expr: submitted },
  { record: r.completed, expr: orZero(rate('tps_jobs_processed_total{outcome="success"}', '1m'), attempts) },
  { record: r.finished, expr: orZero(rate('tps_jobs_processed_total{outcome=~"success|dead_lettered"}', '1m'), attempts) },
  { record: r.rejected, expr: orZero(rate('tps_jobs_rejected_total', '1m'), submitted) },
  // Handbook panel 6: finished work should match incoming work; below 1 the queue is growing.
  { record: r.throughputVsIncoming, expr: `${r.finished} / ${r.submitted}` },
];

const resources: RecordingRule[] = [
  // Share of one CPU core per role (the handbook's CPU %): a Node.js role does its work on one core.
  { record: r.cpu, expr: 'sum by (job) (rate(process_cpu_seconds_total[1m]))' },
  { record: r.memory, expr: 'max by (job) (process_resident_memory_bytes / tps_process_memory_limit_bytes)' },
];

export const recordingGroups: RuleGroup<RecordingRule>[] = [
  { name: 'tps-pools', rules: pools },
  { name: 'tps-latency', rules: latency },
  { name: 'tps-flow', rules: flow },
  { name: 'tps-resources', rules: resources },
];
