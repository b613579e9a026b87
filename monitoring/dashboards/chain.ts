// Service chain: per-hop latency, in-flight work, breakers and refusals for
// worker -> service-a -> service-b -> service-c, so a cascade from service-c shows hop by hop
// (lab 3.1): c slows down, b's breaker to c opens, a and the fast jobs stay healthy.
import { orZero, quantile, ratioOfEvents } from '../promql.ts';
import { dashboard, row, stat, steps, timeseries } from './model.ts';
import { circuitLight, ranges } from './ranges.ts';

const services = ['service-a', 'service-b', 'service-c'] as const;
const hopLatency = (target: string, q: number) =>
  `histogram_quantile(${q}, sum by (caller, target, le) (rate(tps_downstream_request_duration_seconds_bucket{target="${target}"}[1m])))`;

const breakers = stat({
  title: 'Breakers along the chain',
  description: 'Every caller -> target breaker. In a cascade from service-c, service-b->service-c opens first; the worker breakers open only for jobs that need service-c (the slow pool).',
  queries: [{ expr: 'max by (circuit) (tps_circuit_state)', legend: '{{circuit}}' }],
  thresholds: ranges.circuit, mappings: circuitLight, w: 18,
});

const faults = stat({
  title: 'Chaos faults active',
  description: 'Faults now on, per target (tps chaos). A slow or failing hop here explains the rest of the dashboard.',
  queries: [{ expr: 'sum(tps_chaos_fault_active) or vector(0)', legend: 'faults' }],
  thresholds: steps('green', [1, 'purple']), w: 6,
});

function hop(target: string) {
  return timeseries({
    title: `Calls to ${target}: p50 / p99`,
    description: `Latency of calls into ${target} as its callers see it (including waiting for a free slot there). Timeouts shrink down the chain (worker 2 s fast / 10 s slow, a->b 8 s, b->c 3 s). Dots are exemplars linking to traces.`,
    queries: [
      { expr: hopLatency(target, 0.5), legend: '{{caller}} -> {{target}} p50', exemplar: true },
      { expr: hopLatency(target, 0.99), legend: '{{caller}} -> {{target}} p99', exemplar: true },
    ],
    unit: 's', min: 0, w: 8,
  });
}

function busy(service: string) {
  return timeseries({
    title: `${service}: in flight and waiting`,
    description: `Requests ${service} works on now (its concurrency limit, like a database pool: a 128, b 64, c 16) and requests waiting for a free slot. Waiting that grows: this hop is the bottleneck.`,
    queries: [
      { expr: `sum by (service) (tps_service_inflight{service="${service}"})`, legend: 'in flight' },
      { expr: `sum by (service) (tps_service_waiting{service="${service}"})`, legend: 'waiting' },
    ],
    min: 0, w: 8,
  });
}

function answers(service: string) {
  const served = `sum by (service) (rate(tps_http_request_duration_seconds_count{service="${service}", route="/work"}[1m]))`;
  return timeseries({
    title: `${service}: answers and refusals`,
    description: `Requests ${service} answered per second by status code, and work it refused without doing it: overloaded (wait line full, 503) or deadline (the caller's deadline had passed, 504).`,
    queries: [
      { expr: `sum by (code) (rate(tps_http_request_duration_seconds_count{service="${service}", route="/work"}[1m]))`, legend: '{{code}}' },
      { expr: orZero(`sum by (service, reason) (rate(tps_service_rejected_total{service="${service}"}[1m]))`, served, 'service'), legend: 'refused: {{reason}}' },
    ],
    unit: 'reqps', min: 0, w: 8,
  });
}

const calls = timeseries({
  title: 'Calls through each breaker by result',
  description: 'success, failure, timeout, and rejected (refused at once because the breaker is open: the load the breaker keeps off a broken service).',
  queries: [{ expr: 'sum by (circuit, result) (rate(tps_circuit_calls_total[1m]))', legend: '{{circuit}} {{result}}' }],
  unit: 'reqps', min: 0, w: 12,
});

const opens = timeseries({
  title: 'Breaker openings (per 5 min)',
  description: 'Catches openings shorter than a scrape. More than 3 in 15 minutes: flapping (alert TpsCircuitFlapping).',
  queries: [{ expr: orZero('sum by (circuit) (increase(tps_circuit_transitions_total{to="open"}[5m]))', 'max by (circuit) (tps_circuit_state)'), legend: '{{circuit}}' }],
  min: 0, w: 12,
});

const effects = timeseries({
  title: 'Side effects and duplicates',
  description: 'Work each service completed per second, and work completed again for an Idempotency-Key it had already completed (at-least-once delivery made visible: a redelivered job whose first attempt had finished).',
  queries: [
    { expr: 'sum by (service) (rate(tps_service_effects_total[1m]))', legend: '{{service}} done/s' },
    { expr: orZero('sum by (service) (increase(tps_service_duplicates_total[5m]))', 'sum by (service) (rate(tps_service_effects_total[1m]))'), legend: '{{service}} duplicates (5 min)' },
  ],
  min: 0, w: 24,
});

// A canary (tps canary, docs/canary.md) as its caller sees it: no data until the first canary.
const perVersion = 'target, track, version';
const canaryShare = timeseries({
  title: 'Canary: share of the calls',
  description: 'Percent of its calls to the service a caller sends to the canary (tps canary start, promote: 10, 50, 100). 0 once promoted or rolled back; a drop to 0 on its own is an automatic rollback (the canary broke its SLO).',
  queries: [{ expr: `max by (target, version) (tps_canary_weight)`, legend: '{{target}} canary {{version}}' }],
  unit: 'percent', min: 0, max: 100, w: 8,
});
const canaryErrors = timeseries({
  title: 'Canary against stable: failed share',
  description: 'Failed calls (5xx, timeout, unreachable, breaker open) over all calls, per track and version, as the caller saw them. A canary above the stable version is degrading; beyond its limit (default 5 %) the caller rolls it back.',
  queries: [{ expr: ratioOfEvents(`sum by (${perVersion}) (rate(tps_canary_calls_total{outcome="failure"}[1m]))`, `sum by (${perVersion}) (rate(tps_canary_calls_total[1m]))`), legend: '{{target}} {{track}} {{version}}' }],
  unit: 'percentunit', min: 0, w: 8,
});
const canaryLatency = timeseries({
  title: 'Canary against stable: p99',
  description: 'p99 of the calls to each track and version, as the caller timed them. A canary slower than the stable version is degrading; beyond its limit (default 2 s) the caller rolls it back.',
  queries: [{ expr: quantile(0.99, 'tps_canary_call_duration_seconds', '1m', perVersion), legend: '{{target}} {{track}} {{version}} p99', exemplar: true }],
  unit: 's', min: 0, w: 8,
});

export const chainDashboard = dashboard({
  uid: 'tps-chain',
  title: 'TPS service chain',
  description: 'worker -> service-a -> service-b -> service-c hop by hop: latency, in-flight work, breakers, refusals. A cascade from service-c is visible at each hop.',
  panels: [
    breakers, faults,
    row('Latency per hop'),
    ...services.map(hop),
    row('Concurrency per service'),
    ...services.map(busy),
    ...services.map(answers),
    row('Breakers and side effects'),
    calls, opens, effects,
    row('Canary: stable against canary'),
    canaryShare, canaryErrors, canaryLatency,
  ],
});
