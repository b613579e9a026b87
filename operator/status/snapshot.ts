// The handbook's seven dashboard panels (section 2.2), plus DLQ, autoscaler and chaos, computed
// from two scrapes of every role: gauges from the second, rates and percentiles from the change.
import { knownLabels } from '#platform/metrics.ts';
import { poolNames, type Pool } from '#platform/pools.ts';
import type { Collection, Scrape } from './collect.ts';
import type { Sample } from './parse.ts';

export type Quantiles = { p50: number; p90: number; p99: number; count: number };
export type PoolView = {
  pool: Pool;
  queue: { depth: number; capacity: number; fill: number; pending: number; inflight: number };
  workers: { instances: number; slots: number; busy: number; utilization: number };
  incomingPerSec: number;
  completedPerSec: number;
  attemptsPerSec: number;
  errorRate: number;
  /** Refusals the ingress could attribute to this pool, by reason (part of Snapshot.rejected). */
  rejectedPerSec: Record<string, number>;
  processing: Quantiles;
  endToEnd: Quantiles;
  dlq: { depth: number; capacity: number; addedPerSec: number };
  autoscaler: { desiredSlots?: number; bottleneck: boolean };
};
export type Snapshot = {
  at: string;
  seconds: number;
  pools: PoolView[];
  circuits: Array<{ name: string; state: 'closed' | 'half_open' | 'open'; opensInInterval: number }>;
  roles: Array<{ role: string; up: boolean; cpuPercent: number; memoryMb: number; error?: string }>;
  /**
   * Every refusal of the ingress (tps_jobs_rejected_total, all pool labels): the one definition
   * the board, the metrics and the docs share. `byPool.unknown`: decided before the body said
   * which pool (every queue full, the rate limit, the broker down).
   */
  rejected: { perSec: number; byReason: Record<string, number>; byPool: Record<string, number> };
  faults: Array<{ target: string; fault: string }>;
  /** Live parameters some process applies an override of (`tps config set`), with the values in force. */
  parameters: Array<{ name: string; values: number[] }>;
  /** Declared canaries as their callers see them (tps canary), each track over the interval. */
  canaries: CanaryLine[];
  autoscaler: { present: boolean; enabled: boolean };
};

type Match = Record<string, string>;
const matches = (s: Sample, name: string, m: Match) => s.name === name && Object.entries(m).every(([k, v]) => s.labels[k] === v);
const all = (scrapes: Scrape[]) => scrapes.flatMap((s) => s.samples);
const sum = (samples: Sample[], name: string, m: Match = {}) => samples.filter((s) => matches(s, name, m)).reduce((a, s) => a + s.value, 0);
const max = (samples: Sample[], name: string, m: Match = {}) => samples.filter((s) => matches(s, name, m)).reduce((a, s) => Math.max(a, s.value), 0);

/** Increase of a counter summed over roles; a role that restarted counts from zero. */
export function increase(c: Collection, name: string, m: Match = {}): number {
  let total = 0;
  for (const after of c.after) {
    const before = c.before.find((b) => b.target.url === after.target.url)?.samples ?? [];
    for (const s of after.samples.filter((x) => matches(x, name, m))) {
      const prev = before.find((b) => b.name === s.name && JSON.stringify(b.labels) === JSON.stringify(s.labels))?.value ?? 0;
      total += s.value >= prev ? s.value - prev : s.value;
    }
  }
  return total;
}

/** Percentiles from the increase of histogram buckets, interpolated like histogram_quantile(). */
export function quantiles(c: Collection, name: string, m: Match): Quantiles {
  const les = [...new Set(all(c.after).filter((s) => matches(s, `${name}_bucket`, m)).map((s) => s.labels.le as string))];
  const buckets = les.map((le) => ({ le: le === '+Inf' ? Infinity : Number(le), count: increase(c, `${name}_bucket`, { ...m, le }) })).sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  const q = (p: number) => {
    if (total === 0) return 0;
    const rank = p * total;
    let lower = 0;
    let below = 0;
    for (const b of buckets) {
      if (b.count >= rank) {
        if (b.le === Infinity) return lower;
        return lower + ((b.le - lower) * (rank - below)) / Math.max(1, b.count - below);
      }
      lower = b.le;
      below = b.count;
    }
    return lower;
  };
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), count: total };
}

function poolView(c: Collection, pool: Pool): PoolView {
  const now = all(c.after);
  const per = (n: number) => n / c.seconds;
  const depth = max(now, 'tps_queue_depth', { pool });
  const capacity = max(now, 'tps_queue_capacity', { pool });
  const slots = sum(now, 'tps_worker_slots', { pool });
  const busy = sum(now, 'tps_worker_busy', { pool });
  const attempts = increase(c, 'tps_jobs_processed_total', { pool });
  const failed = attempts - increase(c, 'tps_jobs_processed_total', { pool, outcome: 'success' });
  const reasons = knownLabels.rejectReason;
  const desired = now.find((s) => matches(s, 'tps_autoscaler_desired_slots', { pool }))?.value;
  return {
    pool,
    queue: { depth, capacity, fill: capacity ? depth / capacity : 0, pending: max(now, 'tps_queue_pending', { pool }), inflight: max(now, 'tps_queue_inflight', { pool }) },
    workers: { instances: now.filter((s) => matches(s, 'tps_worker_slots', { pool })).length, slots, busy, utilization: slots ? busy / slots : 0 },
    incomingPerSec: per(increase(c, 'tps_jobs_submitted_total', { pool })),
    completedPerSec: per(increase(c, 'tps_jobs_processed_total', { pool, outcome: 'success' })),
    attemptsPerSec: per(attempts),
    errorRate: attempts ? failed / attempts : 0,
    rejectedPerSec: Object.fromEntries(reasons.map((reason) => [reason, per(increase(c, 'tps_jobs_rejected_total', { pool, reason }))])),
    processing: quantiles(c, 'tps_job_processing_seconds', { pool }),
    endToEnd: quantiles(c, 'tps_job_end_to_end_seconds', { pool }),
    dlq: { depth: max(now, 'tps_dlq_depth', { pool }), capacity: max(now, 'tps_dlq_capacity', { pool }), addedPerSec: per(increase(c, 'tps_dlq_added_total', { pool })) },
    autoscaler: { ...(desired !== undefined ? { desiredSlots: desired } : {}), bottleneck: max(now, 'tps_autoscaler_bottleneck', { pool }) > 0 },
  };
}

function rejectedView(c: Collection): Snapshot['rejected'] {
  const seen = all(c.after).filter((s) => s.name === 'tps_jobs_rejected_total');
  const values = (label: string, known: readonly string[]) => [...new Set([...known, ...seen.map((s) => s.labels[label] ?? '')])].filter(Boolean);
  const per = (m: Match) => increase(c, 'tps_jobs_rejected_total', m) / c.seconds;
  return {
    perSec: per({}),
    byReason: Object.fromEntries(values('reason', knownLabels.rejectReason).map((reason) => [reason, per({ reason })])),
    byPool: Object.fromEntries(values('pool', [...poolNames, knownLabels.poolNotKnown]).map((pool) => [pool, per({ pool })])),
  };
}

export function snapshot(c: Collection): Snapshot {
  const now = all(c.after);
  const circuitNames = [...new Set(now.filter((s) => s.name === 'tps_circuit_state').map((s) => s.labels.circuit as string))].sort();
  const states = ['closed', 'half_open', 'open'] as const;
  return {
    at: c.at,
    seconds: c.seconds,
    pools: poolNames.map((pool) => poolView(c, pool)),
    circuits: circuitNames.map((name) => ({
      name,
      state: states[Math.min(2, max(now, 'tps_circuit_state', { circuit: name }))] ?? 'closed',
      opensInInterval: increase(c, 'tps_circuit_transitions_total', { circuit: name, to: 'open' }),
    })),
    roles: c.after.map((s) => {
      const before = c.before.find((b) => b.target.url === s.target.url)?.samples ?? [];
      const cpu = sum(s.samples, 'process_cpu_seconds_total') - sum(before, 'process_cpu_seconds_total');
      return {
        role: s.target.role, up: !s.error, cpuPercent: Math.max(0, (cpu / c.seconds) * 100),
        memoryMb: sum(s.samples, 'process_resident_memory_bytes') / 1_048_576, ...(s.error ? { error: s.error } : {}),
      };
    }),
    rejected: rejectedView(c),
    faults: now.filter((s) => s.name === 'tps_chaos_fault_active' && s.value > 0).map((s) => ({ target: s.labels.target as string, fault: s.labels.fault as string }))
      .filter((f, i, list) => list.findIndex((g) => g.target === f.target && g.fault === f.fault) === i),
    autoscaler: { present: now.some((s) => s.name === 'tps_autoscaler_enabled'), enabled: max(now, 'tps_autoscaler_enabled') > 0 },
    parameters: overriddenParameters(c.after),
    canaries: canaryLines(c),
  };
}

export type CanaryLine = { target: string; version: string; weight: number; tracks: Array<{ track: string; version: string; callsPerSec: number; errorRate: number; p99: number }> };

/** A canary's share and both tracks' calls, failed share and p99 over the interval (tps_canary_*). */
function canaryLines(c: Collection): CanaryLine[] {
  return all(c.after).filter((s) => s.name === 'tps_canary_weight').map((w) => {
    const target = w.labels.target ?? '';
    const versions = [...new Set(all(c.after).filter((s) => s.name === 'tps_canary_calls_total' && s.labels.target === target).map((s) => `${s.labels.track}/${s.labels.version}`))];
    const tracks = versions.map((key) => {
      const [track = '', version = ''] = key.split('/');
      const m = { target, track, version };
      const calls = increase(c, 'tps_canary_calls_total', m);
      return { track, version, callsPerSec: calls / c.seconds, errorRate: calls ? increase(c, 'tps_canary_calls_total', { ...m, outcome: 'failure' }) / calls : 0, p99: quantiles(c, 'tps_canary_call_duration_seconds', m).p99 };
    }).filter((t) => t.callsPerSec > 0 || (t.track === 'canary' && t.version === w.labels.version));
    return { target, version: w.labels.version ?? '', weight: w.value, tracks };
  });
}

/** Per overridden parameter, the distinct values the processes that override it apply. */
function overriddenParameters(scrapes: Collection['after']): Snapshot['parameters'] {
  const found = new Map<string, Set<number>>();
  for (const { samples } of scrapes) {
    for (const o of samples.filter((x) => x.name === 'tps_config_parameter_overridden' && x.value === 1)) {
      const name = o.labels.name ?? '';
      const value = samples.find((x) => x.name === 'tps_config_parameter' && x.labels.name === name)?.value;
      if (value !== undefined) found.set(name, (found.get(name) ?? new Set()).add(value));
    }
  }
  return [...found].sort(([a], [b]) => a.localeCompare(b)).map(([name, values]) => ({ name, values: [...values].sort((a, b) => a - b) }));
}
