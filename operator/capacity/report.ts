// The capacity plan as a person reads it: the forecast table, per-pool needs, a chart of the load
// month by month (history and forecast), the scaling strategy and the assumptions behind it all.
import type { Plan, PlanPoint } from './forecast.ts';

const n = (v: number, digits = 0) => v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const pct = (v: number) => `${n(v * 100, 1)} %`;
const money = (p: Plan, v: number, digits = 0) => `${p.prices.currency}${n(v, digits)}`;

function pad(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ').trimEnd());
}

function pointColumn(p: Plan, x: PlanPoint): string[] {
  const pools = Object.entries(x.pools).map(([, need]) => `${need.workers} (${need.slots})`);
  const queues = Object.entries(x.pools).map(([, need]) => n(need.queue));
  return [x.months === 0 ? 'now' : `${x.months} months`, n(x.load), n(x.peak), ...pools, ...queues, n(x.cpuCores, 1), n(x.memoryGiB, 1), money(p, x.costPerMonth)];
}

/** The table: one row per point (now, 3, 6, 12 months). */
export function planTable(p: Plan): string[] {
  const pools = Object.keys(p.now.pools);
  const header = ['', 'load jobs/s', 'peak jobs/s', ...pools.map((pool) => `${pool} workers (slots)`), ...pools.map((pool) => `${pool} queue`), 'CPU cores', 'memory GiB', 'cost/month'];
  return pad([header, ...[p.now, ...p.points].map((x) => pointColumn(p, x))]);
}

/** Load month by month: the fitted past (-3..0) and the forecast, average as █, the peak above it as ░. */
export function loadChart(p: Plan, width = 50): string[] {
  const rows = [-3, -2, -1, 0, ...p.monthly.map((m) => m.month)].map((month) => {
    const load = p.currentLoad * (1 + p.monthlyGrowth) ** month;
    return { month, load, peak: load * p.peakFactor };
  });
  const top = Math.max(...rows.map((r) => r.peak));
  return rows.map((r) => {
    const [avg, peak] = [Math.max(1, Math.round((r.load / top) * width)), Math.round((r.peak / top) * width)];
    const label = r.month === 0 ? 'now' : `${r.month > 0 ? '+' : ''}${r.month} mo`;
    return `${label.padStart(6)} ${'█'.repeat(avg)}${'░'.repeat(Math.max(0, peak - avg))} ${n(r.load)} (peak ${n(r.peak)})`;
  });
}

export function strategy(p: Plan): string[] {
  const outgrow = Object.entries(p.outgrows).map(([pool, m]) => (m === undefined ? `${pool}: today's workers hold the peak for the next ${p.monthly.length} months` : `${pool}: today's workers run short at the peak in month ${m}`));
  return [
    `Scale a pool up when its utilisation at the daily peak passes ${pct(p.utilisation)} (the autoscaler's threshold), by 50 % of its slots at a time; add a worker process when its slots reach the pool's maximum per process.`,
    ...outgrow,
    `Provision for the month's peak (${n(p.peakFactor, 2)}x the mean), not its average: the queues absorb seconds of burst, not hours of it.`,
    'Cost: the baseline (the "now" row) on reserved capacity; the daily peak above it on capacity you can take back (spot or scale-to-zero workers), since it lasts hours.',
  ];
}

export function assumptions(p: Plan): string[] {
  const pools = Object.entries(p.perJob.pools).map(([pool, x]) => `${pool}: ${pct(x.share)} of jobs, ${n(x.busySecondsPerJob * 1000)} ms of a slot and ${n(x.queueSecondsPerJob, 2)} s of queue per job`);
  return [
    `History: ${p.days} days of hourly load from Prometheus; growth fitted to 7-day means (Theil-Sen on the log), compounding month on month (a twelfth of a year).`,
    `Growth ${pct(p.monthlyGrowth)} a month from ${n(p.currentLoad, 1)} jobs/s now; peak = ${n(p.peakFactor, 2)}x the day's mean (median of the last 28 days' busiest hour).`,
    ...pools,
    `Per job: ${n(p.perJob.cpuMicros)} µs of CPU over all roles (plus ${n(p.perJob.baseCores, 2)} cores at rest), ${n(p.perJob.memoryMiBPerJobPerSecond, 2)} MiB per job/s (plus ${n(p.perJob.baseMemoryGiB, 2)} GiB at rest).`,
    `Sized for the peak at ${pct(p.utilisation)} utilisation; queues sized to sit ${pct(p.queueFill)} full at the peak (the 40-60 % band).`,
    `Prices: ${money(p, p.prices.coreMonth, 2)} per core-month, ${money(p, p.prices.gibMonth, 2)} per GiB-month (--price-core, --price-gib); cost is the month's peak provisioned all month.`,
  ];
}

export function planReport(p: Plan): string {
  return [
    `Capacity plan: ${n(p.currentLoad, 1)} jobs/s now, growing ${pct(p.monthlyGrowth)} a month, peaks ${n(p.peakFactor, 2)}x the mean`, '',
    ...planTable(p), '',
    `First year's cost: ${money(p, p.costFirstYear)} (each month provisioned for its peak)`, '',
    'Load by month (█ average, ░ up to the daily peak):', ...loadChart(p), '',
    'Strategy:', ...strategy(p).map((s) => `- ${s}`), '',
    'Assumptions:', ...assumptions(p).map((s) => `- ${s}`),
  ].join('\n');
}
