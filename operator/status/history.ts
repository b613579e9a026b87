// A point of the Andon board's history, per pool: the figures its lines draw (queue depth and
// capacity, p50/p90/p99, throughput against incoming, error rate, utilisation). One shape from
// either source: a live snapshot (what `tps status` computes, snapshot.ts), or Prometheus' range
// queries over the same recording rules as the dashboards and alerts.
import { recorded } from '#monitoring/promql.ts';
import { isFailure, prometheusApi, type ApiFailure } from '#operator/prometheus-api.ts';
import type { Snapshot } from './snapshot.ts';

export type BoardPoint = {
  at: number;
  pools: Record<string, { depth: number; capacity: number; p50: number; p90: number; p99: number; completedPerSec: number; incomingPerSec: number; errorRate: number; utilization: number }>;
};

/** A point from a live snapshot taken at `at`. */
export function pointOf(s: Snapshot, at: number): BoardPoint {
  return {
    at,
    pools: Object.fromEntries(s.pools.map((p) => [p.pool, {
      depth: p.queue.depth, capacity: p.queue.capacity, p50: p.processing.p50, p90: p.processing.p90, p99: p.processing.p99,
      completedPerSec: p.completedPerSec, incomingPerSec: p.incomingPerSec, errorRate: p.errorRate, utilization: p.workers.utilization,
    }])),
  };
}

type Matrix = { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
type Field = keyof BoardPoint['pools'][string];

/** Each line's series, per pool: the same recording rules as the dashboards and the alerts. */
const queries: Record<Field, string> = {
  depth: 'max by (pool) (tps_queue_depth)',
  capacity: 'max by (pool) (tps_queue_capacity)',
  p50: recorded.p50,
  p90: recorded.p90,
  p99: recorded.p99,
  completedPerSec: recorded.completed,
  incomingPerSec: recorded.submitted,
  errorRate: recorded.errorRatio1m,
  utilization: recorded.utilization,
};
const fields = Object.keys(queries) as Field[];

/** The last `windowMs` of the board's lines from Prometheus, one point every `stepMs`. */
export async function prometheusHistory(url: string, opts: { windowMs: number; stepMs: number; end?: number }): Promise<BoardPoint[] | ApiFailure> {
  const end = opts.end ?? Date.now();
  const form = { start: String((end - opts.windowMs) / 1000), end: String(end / 1000), step: String(opts.stepMs / 1000) };
  const answers = await Promise.all(fields.map((f) => prometheusApi<Matrix>(url, '/api/v1/query_range', { ...form, query: queries[f] }, 3_000)));
  const failed = answers.find(isFailure);
  return failed ?? toPoints(answers as Matrix[]);
}

/** One point per step that has a value for any pool; a field a pool lacks there reads 0. */
function toPoints(answers: readonly Matrix[]): BoardPoint[] {
  const byTime = new Map<number, BoardPoint>();
  answers.forEach((answer, i) => {
    const field = fields[i] as Field;
    for (const series of answer.result) {
      const pool = series.metric.pool;
      if (!pool) continue;
      for (const [t, v] of series.values) {
        const at = Math.round(t * 1000);
        const point = byTime.get(at) ?? { at, pools: {} };
        byTime.set(at, point);
        const values = point.pools[pool] ??= Object.fromEntries(fields.map((f) => [f, 0])) as BoardPoint['pools'][string];
        const value = Number(v);
        values[field] = Number.isFinite(value) ? value : 0;
      }
    }
  });
  return [...byTime.values()].sort((a, b) => a.at - b.at);
}
