// The metric contract of ARCHITECTURE section 9: every name, type, help text and label set in one
// table. Roles create the families they own from it; dashboards, alert rules and tests read it.
import os from 'node:os';
import client from 'prom-client';
import { LatencyHistogram as Histogram } from './latency-histogram.ts';

type Kind = 'counter' | 'gauge' | 'histogram';
export type MetricDef<L extends string = string> = {
  readonly name: string;
  readonly kind: Kind;
  readonly help: string;
  readonly labels: readonly L[];
  readonly buckets?: readonly number[];
};

function def<const L extends string>(kind: Kind, name: string, labels: readonly L[], help: string, buckets?: readonly number[]): MetricDef<L> {
  return buckets ? { name, kind, help, labels, buckets } : { name, kind, help, labels };
}

/** Seconds; from 1 ms (fast jobs) to 30 s (slow jobs under a latency fault). */
export const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

export const metrics = {
  jobsSubmitted: def('counter', 'tps_jobs_submitted_total', ['pool', 'type'], 'Jobs admitted onto a queue: accepted by the ingress (answered 202), or replayed from the DLQ through the admin API.'),
  jobsRejected: def('counter', 'tps_jobs_rejected_total', ['pool', 'reason'], 'Jobs the ingress refused, by reason: queue_full, rate_limited, invalid, broker_unavailable, idempotency_store_full.'),
  queueDepth: def('gauge', 'tps_queue_depth', ['pool'], 'Messages in the pool stream (waiting plus delivered but not yet acknowledged).'),
  queueCapacity: def('gauge', 'tps_queue_capacity', ['pool'], 'Maximum messages the pool stream holds before it rejects new jobs.'),
  queuePending: def('gauge', 'tps_queue_pending', ['pool'], 'Messages waiting for a worker (consumer num_pending).'),
  queueInflight: def('gauge', 'tps_queue_inflight', ['pool'], 'Messages delivered to workers and not yet acknowledged (consumer num_ack_pending).'),
  workerSlots: def('gauge', 'tps_worker_slots', ['pool'], 'Concurrent job slots of this worker process.'),
  workerBusy: def('gauge', 'tps_worker_busy', ['pool'], 'Slots of this worker process that hold a job now.'),
  jobsProcessed: def('counter', 'tps_jobs_processed_total', ['pool', 'type', 'outcome'], 'Job attempts finished by workers, by outcome: success, retry, dead_lettered.'),
  jobProcessing: def('histogram', 'tps_job_processing_seconds', ['pool', 'type'], 'Time from a worker starting a job attempt to finishing it.', latencyBuckets),
  jobQueueWait: def('histogram', 'tps_job_queue_wait_seconds', ['pool'], 'Time a job waited in the queue before a worker started it.', latencyBuckets),
  jobEndToEnd: def('histogram', 'tps_job_end_to_end_seconds', ['pool', 'type'], 'Time from the ingress accepting a job to the job reaching a terminal state.', latencyBuckets),
  dlqDepth: def('gauge', 'tps_dlq_depth', ['pool'], 'Dead-lettered jobs waiting for an operator.'),
  dlqCapacity: def('gauge', 'tps_dlq_capacity', ['pool'], 'Maximum entries the dead-letter stream holds.'),
  dlqBlocked: def('gauge', 'tps_dlq_blocked_jobs', ['pool'], 'Jobs that failed for good but are not in the DLQ yet (MAX_DELIVERIES advisories the mover has not moved, e.g. while the DLQ is full); each still takes a place in its queue.'),
  jobStatusBytes: def('gauge', 'tps_job_status_bytes', [], 'Bytes the job status bucket (tps_jobs) holds; at its limit it evicts the oldest statuses.'),
  jobStatusLimit: def('gauge', 'tps_job_status_limit_bytes', [], 'Bytes the job status bucket may hold before it evicts (its max_bytes).'),
  idempotencyBytes: def('gauge', 'tps_idempotency_bytes', [], 'Bytes the idempotency store (tps_idempotency) holds; at its limit it refuses new Idempotency-Keys.'),
  idempotencyLimit: def('gauge', 'tps_idempotency_limit_bytes', [], 'Bytes the idempotency store may hold before it refuses new keys (its max_bytes).'),
  dlqAdded: def('counter', 'tps_dlq_added_total', ['pool', 'reason'], 'Jobs moved to the dead-letter queue, by reason (error code).'),
  dlqReplayed: def('counter', 'tps_dlq_replayed_total', ['pool', 'reason'], 'Dead-lettered jobs replayed onto their queue.'),
  circuitState: def('gauge', 'tps_circuit_state', ['circuit'], 'Circuit breaker state: 0 closed, 1 half-open, 2 open.'),
  circuitTransitions: def('counter', 'tps_circuit_transitions_total', ['circuit', 'to'], 'Circuit breaker state changes, by the state entered.'),
  circuitCalls: def('counter', 'tps_circuit_calls_total', ['circuit', 'result'], 'Calls through a circuit breaker: success, failure, timeout, rejected, fallback.'),
  downstreamDuration: def('histogram', 'tps_downstream_request_duration_seconds', ['caller', 'target', 'outcome'], 'Duration of calls to the next service.', latencyBuckets),
  httpDuration: def('histogram', 'tps_http_request_duration_seconds', ['service', 'route', 'method', 'code'], 'Duration of HTTP requests served.', latencyBuckets),
  autoscalerDecisions: def('counter', 'tps_autoscaler_decisions_total', ['pool', 'direction'], 'Autoscaler decisions, by direction: up, down, hold.'),
  autoscalerDesiredSlots: def('gauge', 'tps_autoscaler_desired_slots', ['pool'], 'Slots per worker process the autoscaler wants for the pool (actual: tps_worker_slots).'),
  autoscalerEnabled: def('gauge', 'tps_autoscaler_enabled', [], '1 while the autoscaler is allowed to change slots, 0 under manual control.'),
  autoscalerBottleneck: def('gauge', 'tps_autoscaler_bottleneck', ['pool'], '1 while more slots stopped raising throughput (the bottleneck is downstream), so the autoscaler holds.'),
  serviceInflight: def('gauge', 'tps_service_inflight', ['service'], 'Requests a chain service is working on now (its concurrency limit in use).'),
  serviceWaiting: def('gauge', 'tps_service_waiting', ['service'], 'Requests waiting for a free slot of a chain service\'s concurrency limit.'),
  serviceRejected: def('counter', 'tps_service_rejected_total', ['service', 'reason'], 'Requests a chain service refused or stopped without completing the work: overloaded, deadline (expired on arrival or during the work).'),
  serviceEffects: def('counter', 'tps_service_effects_total', ['service'], 'Work a chain service completed (side effects performed).'),
  serviceDuplicates: def('counter', 'tps_service_duplicates_total', ['service'], 'Completed work whose Idempotency-Key had already completed here (a duplicate side effect).'),
  cacheRequests: def('counter', 'tps_cache_requests_total', ['caller', 'target', 'result'], 'Lookups of a hop\'s cache of its next hop\'s answers (`tps config set cache.<service>`): hit (answered from it, the next hop not called) or miss.'),
  canaryCalls: def('counter', 'tps_canary_calls_total', ['caller', 'target', 'track', 'version', 'outcome'], 'Calls a caller split between a service\'s stable version and its canary (`tps canary`), by track, version and outcome: success, failure (5xx, timeout, unreachable, breaker open), client_error.'),
  canaryCallDuration: def('histogram', 'tps_canary_call_duration_seconds', ['caller', 'target', 'track', 'version'], 'Duration of the calls a caller split between a service\'s stable version and its canary, by track and version.', latencyBuckets),
  canaryWeight: def('gauge', 'tps_canary_weight', ['caller', 'target', 'version'], 'Percent of its calls to the target a caller sends to the canary (0 once promoted or rolled back).'),
  buildInfo: def('gauge', 'tps_build_info', ['role', 'version', 'track'], 'Always 1: which version of its role this process runs (SERVICE_VERSION) and on which track (stable, or its service\'s canary).'),
  fallbacks: def('counter', 'tps_fallback_total', ['caller', 'target', 'source'], 'Answers a hop gave without its failing next hop (`tps config set fallback.<service>`): from its cache (the last answer) or declared (a degraded answer).'),
  configParameter: def('gauge', 'tps_config_parameter', ['name'], 'A live parameter this process applies, at its value in force: the start-up value or the override of `tps config set`.'),
  configParameterOverridden: def('gauge', 'tps_config_parameter_overridden', ['name'], '1 while this process applies an override of the live parameter (`tps config set`), 0 at its start-up value.'),
  chaosFaultActive: def('gauge', 'tps_chaos_fault_active', ['target', 'fault'], 'Chaos faults active now (1) by target and fault.'),
  processMemoryLimit: def('gauge', 'tps_process_memory_limit_bytes', [], 'Memory this process may use: its cgroup limit (a container\'s memory limit), else the machine\'s RAM.'),
} as const;

/**
 * Label values known before any event, so a role can export each counter series at 0 from its
 * start: a dashboard then reads 0 on a healthy system, not "No data", and rate() has a baseline.
 */
export const knownLabels = {
  rejectReason: ['queue_full', 'rate_limited', 'invalid', 'broker_unavailable', 'idempotency_store_full'],
  /** The ingress's pool label when a refusal is decided before the body says which pool (every queue full, rate limit, broker down). */
  poolNotKnown: 'unknown',
  outcome: ['success', 'retry', 'dead_lettered'],
  circuitTo: ['closed', 'half_open', 'open'],
  circuitResult: ['success', 'failure', 'timeout', 'rejected', 'fallback'],
  serviceRejectReason: ['overloaded', 'deadline'],
  direction: ['up', 'down', 'hold'],
  cacheResult: ['hit', 'miss'],
  fallbackSource: ['cache', 'declared'],
  canaryOutcome: ['success', 'failure', 'client_error'],
} as const;

/** Every combination of the given label values: `{a: [1, 2], b: [x]}` -> `[{a: 1, b: x}, {a: 2, b: x}]`. */
export function labelSets<L extends string>(values: Record<L, readonly string[]>): Array<Record<L, string>> {
  return Object.entries<readonly string[]>(values).reduce<Array<Record<string, string>>>(
    (sets, [label, vals]) => sets.flatMap((set) => vals.map((v) => ({ ...set, [label]: v }))),
    [{}],
  ) as Array<Record<L, string>>;
}

export type MetricsRegistry = client.Registry<client.OpenMetricsContentType>;

// prom-client's gauges of handles, requests and resources in use also come as a `_total` gauge
// each; a gauge named like a counter fails `promtool check metrics` and misleads rate(). The
// gauges by type remain: sum(nodejs_active_handles) is the same number.
const misnamedDefaults = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** A registry in OpenMetrics format (so histograms can carry trace-id exemplars) with the
 * process defaults (CPU, memory, event-loop lag). Prometheus adds job and instance labels. */
export function createRegistry({ defaults = true } = {}): MetricsRegistry {
  const registry = new client.Registry<client.OpenMetricsContentType>();
  registry.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE);
  if (defaults) {
    client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
    for (const name of misnamedDefaults) registry.removeSingleMetric(name);
    // The denominator of "memory %" (handbook panel 7): resident memory over what the process may use.
    // Unconstrained, Node reports 0 or 2^64; the machine's RAM is the real limit then.
    gauge(registry, metrics.processMemoryLimit, (g) => g.set(Math.min(process.constrainedMemory() || Infinity, os.totalmem())));
  }
  return registry;
}

export type Counter<L extends string> = client.Counter<L> & {
  /**
   * An increment of one label set for a path that counts at full speed (a refusal under
   * overload): it adds to a plain number, handed to the counter whenever the counter is read
   * (a scrape, `get()`), so it costs an addition where `inc(labels)` hashes the label set.
   */
  bind(labels: Partial<Record<L, string>>): () => void;
};

// A family is created once per registry: a second creator (a second breaker or downstream client
// in one process, such as a caller's client for a canary beside its stable one) gets the first.
const families = new WeakMap<MetricsRegistry, Map<string, unknown>>();
function once<T>(registry: MetricsRegistry, name: string, make: () => T): T {
  const made = families.get(registry) ?? new Map<string, unknown>();
  families.set(registry, made);
  if (!made.has(name)) made.set(name, make());
  return made.get(name) as T;
}

/** `known`: the label sets to export at 0 from the start (see knownLabels). */
export function counter<L extends string>(registry: MetricsRegistry, d: MetricDef<L>, known: ReadonlyArray<Partial<Record<L, string>>> = []): Counter<L> {
  const c = once(registry, d.name, () => makeCounter(registry, d));
  for (const labels of known) c.inc(labels, 0);
  return c;
}

function makeCounter<L extends string>(registry: MetricsRegistry, d: MetricDef<L>): Counter<L> {
  const pending: Array<{ labels: Partial<Record<L, string>>; n: number }> = [];
  const c = new client.Counter<L>({
    name: d.name, help: d.help, labelNames: d.labels, registers: [registry],
    collect() {
      for (const p of pending) {
        if (p.n === 0) continue;
        this.inc(p.labels, p.n);
        p.n = 0;
      }
    },
  });
  return Object.assign(c, {
    bind(labels: Partial<Record<L, string>>) {
      const p = { labels: { ...labels }, n: 0 };
      pending.push(p);
      return () => { p.n += 1; };
    },
  });
}

/** `collect` runs at every scrape, for gauges that read live state (set the values in it). */
export function gauge<L extends string>(registry: MetricsRegistry, d: MetricDef<L>, collect?: (g: client.Gauge<L>) => void) {
  // A gauge that reads live state has one reader: only plain gauges are shared.
  if (!collect) return once(registry, d.name, () => new client.Gauge<L>({ name: d.name, help: d.help, labelNames: d.labels, registers: [registry] }));
  return new client.Gauge<L>({
    name: d.name, help: d.help, labelNames: d.labels, registers: [registry],
    ...(collect ? { collect(this: client.Gauge<L>) { collect(this); } } : {}),
  });
}

/** Where histograms get the trace id of an observation (telemetry sets it when tracing is on). */
let currentTraceId: () => string | undefined = () => undefined;
export function setExemplarSource(source: () => string | undefined): void {
  currentTraceId = source;
}

export type LatencyHistogram<L extends string> = {
  /** Records seconds; the exemplar is the given trace id, or the active span's. */
  observe(labels: Partial<Record<L, string>>, seconds: number, traceId?: string): void;
  /** `observe` for one label set, bound once (no exemplar: for paths outside any trace). */
  bind(labels: Partial<Record<L, string>>): (seconds: number) => void;
};

export function histogram<L extends string>(registry: MetricsRegistry, d: MetricDef<L>): LatencyHistogram<L> {
  const h = once(registry, d.name, () => new Histogram<L>(d.name, d.help, d.labels, d.buckets ?? latencyBuckets).registerIn(registry));
  return {
    observe(labels, seconds, traceId) {
      h.observe(labels, seconds, (traceId ?? currentTraceId()) || undefined);
    },
    bind: (labels) => h.bind(labels),
  };
}

export type Gauge<L extends string> = client.Gauge<L>;
