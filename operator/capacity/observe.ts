// Reads the history a capacity plan is fitted to from Prometheus: hourly arrivals, busy slots and
// queue depth per pool, CPU and memory over the TPS roles (Prometheus' own process left out), on
// one grid of whole hours ending now. Hours without data stay undefined (forecast.ts skips them).
import { isFailure, prometheusApi } from '#operator/prometheus-api.ts';
import { metrics } from '#platform/metrics.ts';
import { poolDefinitions, poolNames } from '#platform/pools.ts';
import { roleNames } from '#platform/roles.ts';
import { ForecastError, type History, type HourlySeries } from './forecast.ts';

type Matrix = { resultType: string; result: { metric: Record<string, string>; values: [number, string][] }[] };
const hourMs = 3_600_000;

/** The query's series on the grid, one per value of `by` (or the one series when no `by`). */
async function range(url: string, query: string, grid: readonly number[], by?: string): Promise<Map<string, HourlySeries>> {
  const answer = await prometheusApi<Matrix>(url, '/api/v1/query_range', {
    query, start: String((grid[0] ?? 0) / 1000), end: String((grid.at(-1) ?? 0) / 1000), step: String(hourMs / 1000),
  }, 30_000);
  if (isFailure(answer)) throw new ForecastError(`${answer.reason} (query: ${query})`);
  const out = new Map<string, HourlySeries>();
  for (const s of answer.result) {
    const at = new Map(s.values.map(([t, v]) => [Math.round(t * 1000), Number(v)]));
    out.set(by ? s.metric[by] ?? '' : '', { t: grid, values: grid.map((t) => at.get(t)) });
  }
  return out;
}

export type ObserveOptions = { prometheusUrl: string; days?: number; now?: number; workersNow?: Readonly<Record<string, number>> };

export async function observeHistory(opts: ObserveOptions): Promise<History> {
  const days = opts.days ?? 90;
  const end = Math.floor((opts.now ?? Date.now()) / hourMs) * hourMs;
  const grid = Array.from({ length: days * 24 }, (_, k) => end - (days * 24 - 1 - k) * hourMs);
  const roles = `job=~"${roleNames.join('|')}"`;
  const [arrivals, busy, depth, cpu, memory] = await Promise.all([
    range(opts.prometheusUrl, `sum by (pool) (rate(${metrics.jobsSubmitted.name}[1h]))`, grid, 'pool'),
    range(opts.prometheusUrl, `sum by (pool) (avg_over_time(${metrics.workerBusy.name}[1h]))`, grid, 'pool'),
    range(opts.prometheusUrl, `max by (pool) (avg_over_time(${metrics.queueDepth.name}[1h]))`, grid, 'pool'),
    range(opts.prometheusUrl, `sum(rate(process_cpu_seconds_total{${roles}}[1h]))`, grid),
    range(opts.prometheusUrl, `sum(avg_over_time(process_resident_memory_bytes{${roles}}[1h]))`, grid),
  ]);
  const empty: HourlySeries = { t: grid, values: grid.map(() => undefined) };
  if (arrivals.size === 0) throw new ForecastError(`Prometheus at ${opts.prometheusUrl} holds no ${metrics.jobsSubmitted.name} in the last ${days} days: no load to plan from (lab 3.5 stages three months: tps lab start 3.5)`);
  return {
    end,
    cpuCores: cpu.get('') ?? empty,
    memoryBytes: memory.get('') ?? empty,
    pools: Object.fromEntries(poolNames.map((pool) => [pool, {
      arrivals: arrivals.get(pool) ?? empty, busy: busy.get(pool) ?? empty, depth: depth.get(pool) ?? empty,
      slotsPerWorker: poolDefinitions[pool].slots.max, workersNow: opts.workersNow?.[pool] ?? 1,
    }])),
  };
}
