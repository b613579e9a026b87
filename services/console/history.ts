// The board's lines: from Prometheus when it answers (the handbook's recording rules, so they
// reach back before the console started and survive its restarts), then the console's own points
// after Prometheus' last; else the console's bounded ring alone, and the page says which. Prometheus
// is read at most every `refreshMs`, and only while a page is open (a board update asks for it).
import { recorded } from '#monitoring/promql.ts';
import { isFailure, prometheusApi } from '#operator/prometheus-api.ts';
import { html, type Html } from './html.ts';
import type { BoardPoint } from './sampler.ts';

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

export type BoardHistory = {
  /** The points the lines draw, oldest first. */
  points(): readonly BoardPoint[];
  /** Where the lines come from, for the page. */
  source(): Html;
  /** Reads Prometheus again when the last reading is older than refreshMs (in the background). */
  refresh(): Promise<void>;
};

export type BoardHistoryOptions = {
  ring: () => readonly BoardPoint[];
  prometheusUrl: string;
  windowMs: number;
  stepMs: number;
  refreshMs: number;
};

export function boardHistory(opts: BoardHistoryOptions): BoardHistory {
  let fromPrometheus: { at: number; points: BoardPoint[] } | undefined;
  let failure: string | undefined;
  let reading: Promise<void> | undefined;
  let lastTry = 0;
  const read = async () => {
    const end = Date.now();
    const form = { start: String((end - opts.windowMs) / 1000), end: String(end / 1000), step: String(opts.stepMs / 1000) };
    const answers = await Promise.all(fields.map((f) => prometheusApi<Matrix>(opts.prometheusUrl, '/api/v1/query_range', { ...form, query: queries[f] }, 3_000)));
    const failed = answers.find(isFailure);
    if (failed) {
      failure = failed.reason;
      fromPrometheus = undefined;
      return;
    }
    failure = undefined;
    fromPrometheus = { at: end, points: toPoints(answers as Matrix[]) };
  };
  return {
    points() {
      const ring = opts.ring();
      const prometheus = fromPrometheus?.points ?? [];
      const last = prometheus.at(-1)?.at ?? 0;
      return [...prometheus, ...ring.filter((p) => p.at > last)];
    },
    source() {
      if (fromPrometheus) return html`<span data-testid="history-source" data-source="prometheus">Lines: Prometheus at ${opts.prometheusUrl} (the last ${opts.windowMs / 60_000} minutes, every ${opts.stepMs / 1000} s, 1-minute rates), then this console's own points.</span>`;
      return html`<span data-testid="history-source" data-source="memory">Lines: kept in this console's memory since the first page opened, up to ${opts.windowMs / 60_000} minutes, lost when it restarts${failure ? ` (Prometheus: ${failure})` : ''}.</span>`;
    },
    refresh() {
      if (reading || Date.now() - lastTry < opts.refreshMs) return reading ?? Promise.resolve();
      lastTry = Date.now();
      reading = read().finally(() => { reading = undefined; });
      return reading;
    },
  };
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
