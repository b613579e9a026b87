// The capacity plan's arithmetic (lab 3.5), pure: from hourly history to the load at 3, 6 and 12
// months and what each point needs. Every number is fitted to the history, none assumed:
// - growth: a straight line through the log of 7-day mean load (weekly rhythm averaged out),
//   fitted by Theil-Sen (the median of pairwise slopes), so a day of odd load (a live test run
//   on top of the history) does not bend it; compounding, as growth "per month" does;
// - peak: the median over the last 28 full days of the busiest hour over the day's mean;
// - per job: busy worker slots and queue depth are arrivals times a time (Little's law), fitted
//   through the origin per pool; CPU cores and memory as a fixed part plus a part per job/s;
// - each point provisions for its peak at the target utilisation (80 %: the autoscaler's default
//   threshold), and a queue that sits at half full at that peak (the 40-60 % band's middle).
import { dayMs, monthMs } from './growth-history.ts';

export type HourlySeries = { readonly t: readonly number[] /* ms */; readonly values: readonly (number | undefined)[] };
export type PoolHistory = { readonly arrivals: HourlySeries; readonly busy: HourlySeries; readonly depth: HourlySeries; readonly slotsPerWorker: number; readonly workersNow: number };
export type History = { readonly pools: Readonly<Record<string, PoolHistory>>; readonly cpuCores: HourlySeries; readonly memoryBytes: HourlySeries; readonly end: number /* ms */ };
export type Prices = { readonly coreMonth: number; readonly gibMonth: number; readonly currency: string };
export type PlanOptions = { readonly horizons?: readonly number[]; readonly utilisation?: number; readonly queueFill?: number; readonly prices: Prices };

export type PoolNeed = { slots: number; workers: number; queue: number; arrivals: number };
export type PlanPoint = { months: number; load: number; peak: number; pools: Record<string, PoolNeed>; workers: number; cpuCores: number; memoryGiB: number; costPerMonth: number };
export type Plan = {
  days: number; currentLoad: number; monthlyGrowth: number; peakFactor: number; utilisation: number; queueFill: number; prices: Prices;
  perJob: { cpuMicros: number; memoryMiBPerJobPerSecond: number; baseCores: number; baseMemoryGiB: number; pools: Record<string, { busySecondsPerJob: number; queueSecondsPerJob: number; share: number }> };
  now: PlanPoint; points: PlanPoint[]; monthly: { month: number; load: number; peak: number; costPerMonth: number }[]; costFirstYear: number;
  /** Per pool: the first month whose peak needs more workers than run now (undefined: not within the horizon). */
  outgrows: Record<string, number | undefined>;
};

export class ForecastError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForecastError';
  }
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
};
const sumAt = (series: readonly HourlySeries[], i: number) => series.reduce<number | undefined>((sum, s) => (s.values[i] === undefined || sum === undefined ? undefined : sum + (s.values[i] ?? 0)), 0);

/** Days of 24 hourly points counted back from the last point; a day missing more than 4 hours is left out. */
export function dailyMeans(s: HourlySeries): { day: number; mean: number; max: number }[] {
  const days: { day: number; mean: number; max: number }[] = [];
  for (let end = s.values.length, day = 0; end >= 24; end -= 24, day -= 1) {
    const hours = s.values.slice(end - 24, end).filter((v): v is number => v !== undefined && Number.isFinite(v));
    if (hours.length >= 20) days.unshift({ day, mean: hours.reduce((a, b) => a + b, 0) / hours.length, max: Math.max(...hours) });
  }
  return days;
}

/** Theil-Sen: the median of pairwise slopes, and the median intercept under it. */
export function theilSen(xs: readonly number[], ys: readonly number[]): { slope: number; intercept: number } {
  const slopes: number[] = [];
  for (let i = 0; i < xs.length; i++) for (let j = i + 1; j < xs.length; j++) if (xs[j] !== xs[i]) slopes.push(((ys[j] ?? 0) - (ys[i] ?? 0)) / ((xs[j] ?? 0) - (xs[i] ?? 0)));
  const slope = median(slopes);
  return { slope, intercept: median(xs.map((x, i) => (ys[i] ?? 0) - slope * x)) };
}

/** Least squares of y on x: through the origin, or with an intercept. */
function fit(pairs: readonly [number, number][], throughOrigin: boolean): { a: number; b: number } {
  if (throughOrigin) return { a: 0, b: pairs.reduce((s, [x, y]) => s + x * y, 0) / (pairs.reduce((s, [x]) => s + x * x, 0) || 1) };
  const n = pairs.length || 1;
  const [mx, my] = [pairs.reduce((s, [x]) => s + x, 0) / n, pairs.reduce((s, [, y]) => s + y, 0) / n];
  const b = pairs.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / (pairs.reduce((s, [x]) => s + (x - mx) ** 2, 0) || 1);
  return { a: my - b * mx, b };
}

/** The last 28 days' hours where both series have a value. */
function recentPairs(x: HourlySeries, y: HourlySeries): [number, number][] {
  const from = Math.max(0, x.values.length - 28 * 24);
  const out: [number, number][] = [];
  for (let i = from; i < x.values.length; i++) {
    const [a, b] = [x.values[i], y.values[i]];
    if (a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b)) out.push([a, b]);
  }
  return out;
}

function growthOf(total: HourlySeries): { days: number; current: number; monthly: number; peakFactor: number } {
  const days = dailyMeans(total);
  if (days.length < 14) throw new ForecastError(`the history holds ${days.length} full day(s) of load; a forecast needs at least 14 (lab 3.5 stages three months: tps lab start 3.5)`);
  // 7-day means, each placed at its middle day.
  const weeks = days.slice(6).map((d, k) => ({ x: d.day - 3, mean: days.slice(k, k + 7).reduce((s, w) => s + w.mean, 0) / 7 }));
  const usable = weeks.filter((w) => w.mean > 0);
  if (usable.length < 8) throw new ForecastError('the history holds too few days with load to fit a trend');
  const { slope, intercept } = theilSen(usable.map((w) => w.x), usable.map((w) => Math.log(w.mean)));
  const ratios = days.slice(-28).filter((d) => d.mean > 0).map((d) => d.max / d.mean);
  return { days: days.length, current: Math.exp(intercept), monthly: Math.exp((slope * monthMs) / dayMs) - 1, peakFactor: median(ratios) };
}

/** Builds the plan; throws ForecastError when the history cannot carry one. */
export function forecast(history: History, opts: PlanOptions): Plan {
  const pools = Object.entries(history.pools);
  const horizons = opts.horizons ?? [3, 6, 12];
  const [utilisation, queueFill] = [opts.utilisation ?? 0.8, opts.queueFill ?? 0.5];
  const total: HourlySeries = { t: history.cpuCores.t, values: history.cpuCores.t.map((_, i) => sumAt(pools.map(([, p]) => p.arrivals), i)) };
  const g = growthOf(total);
  const shares = Object.fromEntries(pools.map(([name, p]) => [name, fit(recentPairs(total, p.arrivals), true).b]));
  const perPool = Object.fromEntries(pools.map(([name, p]) => [name, { busySecondsPerJob: fit(recentPairs(p.arrivals, p.busy), true).b, queueSecondsPerJob: fit(recentPairs(p.arrivals, p.depth), true).b, share: shares[name] ?? 0 }]));
  const cpu = fit(recentPairs(total, history.cpuCores), false);
  const mem = fit(recentPairs(total, history.memoryBytes), false);
  const gib = 1024 ** 3;
  const point = (months: number): PlanPoint => {
    const load = g.current * (1 + g.monthly) ** months;
    const peak = load * g.peakFactor;
    const needs = Object.fromEntries(pools.map(([name, p]) => {
      const { busySecondsPerJob, queueSecondsPerJob, share } = perPool[name] ?? { busySecondsPerJob: 0, queueSecondsPerJob: 0, share: 0 };
      const arrivals = peak * share;
      const slots = Math.max(1, Math.ceil((arrivals * busySecondsPerJob) / utilisation));
      return [name, { arrivals, slots, workers: Math.max(1, Math.ceil(slots / p.slotsPerWorker)), queue: Math.max(10, Math.ceil((arrivals * queueSecondsPerJob) / queueFill / 10) * 10) }];
    }));
    const cpuCores = Math.max(0, cpu.a + cpu.b * peak) / utilisation;
    const memoryGiB = Math.max(0, mem.a + mem.b * peak) / utilisation / gib;
    return { months, load, peak, pools: needs, workers: Object.values(needs).reduce((s, n) => s + n.workers, 0), cpuCores, memoryGiB, costPerMonth: cpuCores * opts.prices.coreMonth + memoryGiB * opts.prices.gibMonth };
  };
  const last = Math.max(...horizons);
  const monthly = Array.from({ length: last }, (_, k) => point(k + 1)).map((p) => ({ month: p.months, load: p.load, peak: p.peak, costPerMonth: p.costPerMonth }));
  const outgrows = Object.fromEntries(pools.map(([name, p]) => [name, Array.from({ length: last }, (_, k) => k + 1).find((m) => (point(m).pools[name]?.workers ?? 0) > p.workersNow)]));
  return {
    days: g.days, currentLoad: g.current, monthlyGrowth: g.monthly, peakFactor: g.peakFactor, utilisation, queueFill, prices: opts.prices,
    perJob: { cpuMicros: cpu.b * 1e6, memoryMiBPerJobPerSecond: mem.b / 1024 ** 2, baseCores: cpu.a, baseMemoryGiB: mem.a / gib, pools: perPool },
    now: point(0), points: horizons.map(point), monthly, costFirstYear: monthly.slice(0, 12).reduce((s, m) => s + m.costPerMonth, 0), outgrows,
  };
}
