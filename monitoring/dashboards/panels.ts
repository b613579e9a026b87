// The handbook's panels (section 2.2), for all pools or one: the overview shows both pools in each
// panel, the pools dashboard puts one pool's copy next to the other's.
import { orZero, recorded as r } from '../promql.ts';
import { bars, stat, timeseries } from './model.ts';
import { circuitLight, ranges } from './ranges.ts';

/** `metric{pool="fast"}`, or the bare metric for every pool. */
const sel = (metric: string, pool?: string, more = '') => {
  const matchers = [pool ? `pool="${pool}"` : '', more].filter(Boolean).join(', ');
  return matchers ? `${metric}{${matchers}}` : metric;
};
const who = (pool?: string) => (pool ? `${pool} pool` : 'each pool');

export function circuitPanel(circuit?: string) {
  return stat({
    title: circuit ? `Breaker ${circuit}` : 'Circuit breakers',
    description: 'Panel 1. Green: closed, requests flow. Yellow: half-open, one probe call tests the downstream service. Red: open, calls are refused and the pool stops pulling. Red for more than 5 minutes is CRITICAL (alert TpsCircuitOpen).',
    queries: [{ expr: `max by (circuit) (${circuit ? `tps_circuit_state{circuit="${circuit}"}` : 'tps_circuit_state'})`, legend: '{{circuit}}' }],
    thresholds: ranges.circuit, mappings: circuitLight, w: circuit ? 6 : 12,
  });
}

export function queueDepthPanel(pool?: string) {
  return timeseries({
    title: 'Queue depth vs capacity',
    description: `Panel 2, ${who(pool)}. Jobs in the stream (waiting + delivered, not yet acknowledged) against the stream's capacity. Normal: 40-60 % of capacity and stable. Rising: arrivals outpace processing. Flat at capacity: the queue is full and the ingress refuses new jobs (503).`,
    queries: [
      { expr: `max by (pool) (${sel('tps_queue_depth', pool)})`, legend: '{{pool}} depth' },
      { expr: `max by (pool) (${sel('tps_queue_capacity', pool)})`, legend: '{{pool}} capacity' },
      { expr: `max by (pool) (${sel('tps_queue_pending', pool)})`, legend: '{{pool}} waiting for a worker' },
      { expr: `max by (pool) (${sel('tps_queue_inflight', pool)})`, legend: '{{pool}} in flight' },
    ],
    w: pool ? 12 : 8,
  });
}

export function queueFillPanel(pool?: string) {
  return bars({
    title: 'Queue fill',
    description: 'Panel 2 as a level. Normal 40-60 %; orange from 80 % (MEDIUM: plan to scale); red at 100 % (new jobs refused).',
    queries: [{ expr: sel(r.queueFill, pool), legend: '{{pool}}' }],
    unit: 'percentunit', min: 0, max: 1, thresholds: ranges.queueFill.status, w: pool ? 6 : 4,
  });
}

export function utilizationPanel(pool?: string) {
  return bars({
    title: 'Worker utilization',
    description: 'Panel 3: busy slots over all slots of the pool\'s workers. Normal 60-80 %. Blue below 20 %: over-provisioned. Red at 100 %: the pool is at capacity (scale, or find the bottleneck downstream).',
    queries: [{ expr: sel(r.utilization, pool), legend: '{{pool}}' }],
    unit: 'percentunit', min: 0, max: 1, thresholds: ranges.utilization.status, w: 6,
  });
}

export function slotsPanel(pool?: string) {
  return timeseries({
    title: 'Busy vs total slots',
    description: `Panel 3 over time, ${who(pool)}: slots holding a job and all slots (every worker replica added up). Busy at the total for long: scale up.`,
    queries: [
      { expr: `sum by (pool) (${sel('tps_worker_busy', pool)})`, legend: '{{pool}} busy' },
      { expr: `sum by (pool) (${sel('tps_worker_slots', pool)})`, legend: '{{pool}} slots' },
    ],
    w: 6,
  });
}

export function errorRatePanel(pool?: string) {
  return timeseries({
    title: 'Error rate',
    description: 'Panel 4: job attempts that failed (retried or dead-lettered) over all attempts, and jobs the ingress refused over all jobs offered. Below 0.1 % normal; 0.1-1 % investigate; above 1 % serious; above 5 % HIGH; 100 % CRITICAL.',
    queries: [
      { expr: sel(r.errorRatio1m, pool), legend: '{{pool}} attempts failing' },
      { expr: `${sel(r.rejected, pool)} / (${sel(r.submitted, pool)} + ${sel(r.rejected, pool)})`, legend: '{{pool}} refused at the ingress' },
    ],
    unit: 'percentunit', min: 0, thresholds: ranges.errorRatio.band, bands: true,
  });
}

export function latencyPanel(pool?: string) {
  const q = (quantile: number) => `histogram_quantile(${quantile}, sum by (pool, le) (rate(${sel('tps_job_processing_seconds_bucket', pool)}[1m])))`;
  return timeseries({
    title: 'Processing latency p50 / p90 / p99',
    description: 'Panel 5: time from a worker starting a job to finishing it. The lines move together; p99 above 10x p50 means slow outliers (alert TpsLatencyOutliers). Fast jobs: under 50 ms. The dots are exemplars: click one to open that job\'s trace in Jaeger.',
    queries: [
      { expr: q(0.5), legend: '{{pool}} p50', exemplar: true },
      { expr: q(0.9), legend: '{{pool}} p90', exemplar: true },
      { expr: q(0.99), legend: '{{pool}} p99', exemplar: true },
    ],
    unit: 's', min: 0,
  });
}

export function throughputPanel(pool?: string) {
  return timeseries({
    title: 'Throughput vs incoming',
    description: 'Panel 6: jobs completed per second against jobs accepted per second, and refused ones. Normal: completed matches incoming and is steady. Below incoming: the queue grows or jobs fail. Refused: the system is shedding load.',
    queries: [
      { expr: sel(r.completed, pool), legend: '{{pool}} completed/s' },
      { expr: sel(r.submitted, pool), legend: '{{pool}} incoming/s' },
      { expr: sel(r.rejected, pool), legend: '{{pool}} refused/s' },
    ],
    unit: 'reqps', min: 0,
  });
}

export function queueWaitPanel(pool?: string) {
  return timeseries({
    title: 'Queue wait vs processing (p90)',
    description: 'Value stream: how long jobs wait in the queue before a worker starts them, against how long the work takes. Waiting that dominates is waste: too few slots for the load.',
    queries: [
      { expr: sel(r.queueWaitP90, pool), legend: '{{pool}} queue wait p90' },
      { expr: sel(r.p90, pool), legend: '{{pool}} processing p90' },
    ],
    unit: 's', min: 0,
  });
}

export function dlqPanels(pool?: string) {
  return [
    timeseries({
      title: 'Dead-letter queue depth',
      description: `Metric 6, ${who(pool)}: jobs that failed for good and wait for an operator (tps dlq). As close to 0 as possible; growing means something is systematically broken. "Waiting to enter": failed jobs the DLQ could not take yet (full), still in their queue; above 0 for 5 minutes is alert TpsDlqBlocked.`,
      queries: [
        { expr: `max by (pool) (${sel('tps_dlq_depth', pool)})`, legend: '{{pool}} in the DLQ' },
        { expr: `max by (pool) (${sel('tps_dlq_blocked_jobs', pool)})`, legend: '{{pool}} waiting to enter' },
      ],
      min: 0, w: pool ? 6 : 8,
    }),
    bars({
      title: 'DLQ fill',
      description: 'The DLQ never evicts: when it is full, failed jobs stay in their queue. Orange from 80 % (alert TpsDlqNearCapacity).',
      queries: [{ expr: sel(r.dlqFill, pool), legend: '{{pool}}' }],
      unit: 'percentunit', min: 0, max: 1, thresholds: ranges.dlqFill.status, w: pool ? 6 : 4,
    }),
    timeseries({
      title: 'Dead-lettered by reason',
      description: 'Jobs moved to the DLQ per minute, by error code (INVALID_PAYLOAD: a poison job; FAULT_INJECTED, DOWNSTREAM_FAILED, CIRCUIT_OPEN: retries ran out).',
      queries: [{
        expr: orZero(`sum by (pool, reason) (increase(${sel('tps_dlq_added_total', pool)}[1m]))`, `max by (pool) (${sel('tps_dlq_depth', pool)})`, 'pool'),
        legend: '{{pool}} {{reason}}',
      }],
      min: 0, w: 12,
    }),
  ];
}

/** The job status bucket (evicts at its limit) and the idempotency store (refuses new keys at it). */
export function storePanels() {
  const fill = (metric: string) => `max(${metric}_bytes) / max(${metric}_limit_bytes)`;
  return [
    bars({
      title: 'Job stores fill',
      description: 'Bytes held over the limit. Job status: at 100 % the oldest statuses are evicted (GET /jobs/:id 404, false losses in tps audit). Idempotency: at 100 % new keys are refused (503). Orange from 80 % (alerts TpsJobStatusNearEviction, TpsIdempotencyStoreNearFull).',
      queries: [{ expr: fill('tps_job_status'), legend: 'job status' }, { expr: fill('tps_idempotency'), legend: 'idempotency keys' }],
      unit: 'percentunit', min: 0, max: 1, thresholds: ranges.storeFill.status, w: 6,
    }),
    timeseries({
      title: 'Job stores: bytes vs limit',
      description: 'The job status bucket (tps_jobs, statuses kept up to 1 h) and the idempotency store (tps_idempotency, keys kept IDEMPOTENCY_TTL) against their max_bytes.',
      queries: [
        { expr: 'max(tps_job_status_bytes)', legend: 'job status' },
        { expr: 'max(tps_job_status_limit_bytes)', legend: 'job status limit' },
        { expr: 'max(tps_idempotency_bytes)', legend: 'idempotency keys' },
        { expr: 'max(tps_idempotency_limit_bytes)', legend: 'idempotency limit' },
      ],
      unit: 'bytes', min: 0, w: 18,
    }),
  ];
}
