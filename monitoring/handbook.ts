// The operations handbook's numbers (sections 2.2, 3.1 and 5.1) as data. Alert rules and
// dashboard thresholds both read them, so a panel turns red exactly where an alert fires.

/** Ratios (0..1). `normal` is the handbook's "normal" range, drawn on the dashboards. */
export const handbook = {
  /** Panel 2 / metric 1: 40-60 % normal, > 80 % near capacity, 100 % full (rejecting). */
  queueFill: { normal: [0.4, 0.6], nearFull: 0.8, full: 1 },
  /** Panel 3 / metric 5: 60-80 % normal, < 20 % over-provisioned, 100 % at capacity. */
  utilization: { idle: 0.2, normal: [0.6, 0.8], saturated: 0.95 },
  /** Panel 4 / metric 4 and 5.1: < 0.1 % normal, 0.1-1 % investigate, > 1 % serious, > 5 % HIGH, 100 % CRITICAL. */
  errorRatio: { normal: 0.001, serious: 0.01, high: 0.05, all: 1 },
  /** Panel 5 / metric 2: p99 more than 10x p50 means slow outliers. */
  p99OverP50: 10,
  /** 5.1: latency 50 % above baseline MEDIUM, more than 2x baseline HIGH. */
  latencyOverBaseline: { medium: 1.5, high: 2 },
  /** Panel 7: CPU 40-70 %, memory 50-80 % normal; 100 % is the problem. */
  cpu: { normal: [0.4, 0.7], full: 1 },
  memory: { normal: [0.5, 0.8], full: 1 },
  /** Metric 6: the DLQ never evicts, so it must be emptied before it fills (configuration: alert at 80 %). */
  dlqFill: { nearFull: 0.8 },
  /** The job status bucket evicts at its limit, the idempotency store refuses new keys: warn at 80 %. */
  storeFill: { nearFull: 0.8 },
  /** Panel 1 and 5.1: a circuit open for more than 5 minutes is CRITICAL. */
  circuitOpenFor: '5m',
  /** Section 4.5 / 6.1: a breaker that opened more than this many times in 15 minutes is flapping. */
  circuitFlapsPer15m: 3,
} as const;

/** Severities of handbook section 5.1, plus `low` (log it, 5.2 GREEN) and `info` (context, e.g. a chaos fault). */
export const severities = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof severities)[number];

/** The circuit breaker state gauge's values (tps_circuit_state). */
export const circuitStates = { closed: 0, halfOpen: 1, open: 2 } as const;
