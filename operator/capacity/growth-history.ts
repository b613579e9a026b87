// Three months of the system's life for lab 3.5 (capacity planning), as Prometheus would have
// scraped it: load growing 20 % a month (compounding), a daily peak about 2.5 times the day's mean,
// quieter weekends, and what that load cost each role in CPU, memory, busy worker slots and queue.
// Pure and seeded; OpenMetrics text for promtool (operator/exam/backfill.ts). The numbers come
// from the catalogues: the job mix of `tps load`, each job type's work along the chain (so busy
// slots are arrivals times attempt time, Little's law), the roles and their scrape labels.
// Only what a capacity plan reads is written (throughput, busy and configured slots, queue depth,
// CPU, memory, up); latency histograms are not, and their panels stay empty for that time.
// Callers' contract: `end` at least 3 h before the receiving Prometheus' now (backfill.ts).
import { z } from 'zod';
import { defaultMix, parseMix } from '#loadgen/mix.ts';
import { jobCatalogue, route, type JobType } from '#platform/job-catalogue.ts';
import { metrics, type MetricDef } from '#platform/metrics.ts';
import { poolDefinitions, poolNames, workerRole, type Pool } from '#platform/pools.ts';
import { roleSpecs, type RoleName } from '#platform/roles.ts';
import { seeded } from '#operator/exam/weekend-history.ts';
import { openMetricsText, roleFamilies, type Labels, type TextSeries } from '#operator/exam/openmetrics.ts';

export const dayMs = 86_400_000;
/** A month of the plan: a twelfth of a Gregorian year. */
export const monthMs = 30.436875 * dayMs;

export type GrowthHistoryOptions = {
  end: Date; days?: number /* default 90 */; stepSeconds?: number /* default 1800 */; seed?: number;
  /** The mean load of the last day, jobs per second (the lab's "current load: 100 req/sec"). */
  currentRate?: number; monthlyGrowth?: number /* default 0.2 */;
  /** The `instance` label of a role's series (host:port as the receiving Prometheus scrapes it). */
  instanceOf?: (role: RoleName) => string | undefined;
};

const optionsSchema = z.object({
  end: z.date().refine((d) => Number.isFinite(d.getTime()), 'a valid date'),
  days: z.number().int().min(14).max(120).default(90), stepSeconds: z.number().int().min(60).max(3600).default(1800),
  seed: z.number().int().default(3), currentRate: z.number().positive().max(10_000).default(100), monthlyGrowth: z.number().min(-0.5).max(2).default(0.2),
});

/** The daily shape: exp(k cos) around 15:00 UTC, mean 1 over the day; k = 1.3 puts the hourly peak near 2.5x the mean. */
const peakSharpness = 1.3;
const besselI0 = (x: number) => Array.from({ length: 12 }, (_, k) => (x / 2) ** (2 * k) / factorial(k) ** 2).reduce((s, v) => s + v, 0);
const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));
const daily = (hourOfDay: number) => Math.exp(peakSharpness * Math.cos((2 * Math.PI * (hourOfDay - 15)) / 24)) / besselI0(peakSharpness);
/** Weekdays a little busier than Saturdays and Sundays; the week's mean is 1. */
const weekly = (dayOfWeek: number) => (dayOfWeek === 0 || dayOfWeek === 6 ? 0.8 : 1.08);

const mix = new Map(parseMix(defaultMix).map((e) => [e.type, e.weight]));
const types = Object.values(jobCatalogue).filter((t) => mix.has(t.name));
const totalWeight = types.reduce((s, t) => s + (mix.get(t.name) ?? 0), 0);
const typeShare = (t: JobType) => (mix.get(t.name) ?? 0) / totalWeight;
/** One attempt's time: the chain's work along the job's route, plus a little of the worker's own. */
const attemptSeconds = (t: JobType) => (route(t).reduce((ms, s) => ms + (t.work[s]?.latencyMs ?? 0), 0) + 2) / 1000;
/** Seconds a job waits in the queue at this load (depth = arrivals x wait, Little's law): 40 % of its pool's latency SLO. */
const queueWaitSeconds = (pool: Pool) => 0.4 * poolDefinitions[pool].latencySloSeconds;
/** CPU a job costs each role it visits (about 720 µs over all roles, as measured in bench/), and each role's idle cost. */
const cpuPerJob = { ingress: 150e-6, worker: 220e-6, service: 110e-6, idleCores: 0.01 };
/** Resident memory: a Node role at rest, and what each job per second it handles adds (buffers, sockets, in-flight state). */
const memory = { baseBytes: 95e6, bytesPerJobPerSecond: 0.35e6 };

type Step = { t: number; rate: number };

function timeline(o: z.infer<typeof optionsSchema>, rnd: () => number): Step[] {
  const last = Math.floor(o.end.getTime() / 1000 / o.stepSeconds) * o.stepSeconds;
  const n = Math.floor((o.days * 86_400) / o.stepSeconds);
  return Array.from({ length: n + 1 }, (_, k) => {
    const t = last - (n - k) * o.stepSeconds;
    const at = new Date(t * 1000);
    const months = (t * 1000 - o.end.getTime()) / monthMs;
    const trend = o.currentRate * (1 + o.monthlyGrowth) ** months;
    return { t, rate: trend * daily(at.getUTCHours() + at.getUTCMinutes() / 60) * weekly(at.getUTCDay()) * (0.97 + 0.06 * rnd()) };
  });
}

/** Jobs per second each role handles at a total arrival rate. */
function roleRate(role: RoleName, rate: number): number {
  if (role === 'ingress') return rate;
  const pool = poolNames.find((p) => workerRole(p) === role);
  if (pool) return rate * types.filter((t) => t.pool === pool).reduce((s, t) => s + typeShare(t), 0);
  return rate * types.filter((t) => (route(t) as readonly string[]).includes(role)).reduce((s, t) => s + typeShare(t), 0);
}

function cpuPerJobOf(role: RoleName): number {
  if (role === 'ingress') return cpuPerJob.ingress;
  if (poolNames.some((p) => workerRole(p) === role)) return cpuPerJob.worker;
  return role === 'autoscaler' ? 0 : cpuPerJob.service;
}

type Add = (def: MetricDef, role: RoleName, labels: Labels, series: Omit<Extract<TextSeries, { values: unknown }>, 'labels'>) => void;

function roleSeries(steps: Step[], step: number, rnd: () => number, add: Add): void {
  const up: MetricDef = { name: 'up', kind: 'gauge', help: '1 when Prometheus scraped the target.', labels: [] };
  const rss: MetricDef = { name: 'process_resident_memory_bytes', kind: 'gauge', help: 'Resident memory size in bytes.', labels: [] };
  const cpu: MetricDef = { name: 'process_cpu_seconds_total', kind: 'counter', help: 'Total user and system CPU time spent in seconds.', labels: [] };
  for (const { name } of roleSpecs) {
    add(up, name, {}, { values: steps.map(() => 1) });
    add(rss, name, {}, { values: steps.map((s) => memory.baseBytes + memory.bytesPerJobPerSecond * roleRate(name, s.rate) + 3e6 * rnd()) });
    add(cpu, name, {}, { values: steps.map((s) => step * (cpuPerJob.idleCores + cpuPerJobOf(name) * roleRate(name, s.rate) * (0.95 + 0.1 * rnd()))), fractional: true });
  }
}

function poolSeries(steps: Step[], step: number, rnd: () => number, add: Add, pool: Pool): void {
  const poolTypes = types.filter((t) => t.pool === pool);
  const busy = (s: Step) => poolTypes.reduce((sum, t) => sum + s.rate * typeShare(t) * attemptSeconds(t), 0);
  const arrivals = (s: Step) => s.rate * poolTypes.reduce((sum, t) => sum + typeShare(t), 0);
  const def = poolDefinitions[pool];
  // The autoscaler kept about 70 % of its slots busy, within the pool's bounds.
  const slots = (s: Step) => Math.min(def.slots.max, Math.max(def.slots.min, Math.ceil(busy(s) / 0.7)));
  add(metrics.workerBusy, workerRole(pool), { pool }, { values: steps.map((s) => Math.round(busy(s) * (0.9 + 0.2 * rnd()))) });
  add(metrics.workerSlots, workerRole(pool), { pool }, { values: steps.map(slots) });
  add(metrics.queueDepth, 'ingress', { pool }, { values: steps.map((s) => Math.round(arrivals(s) * queueWaitSeconds(pool) * (0.9 + 0.2 * rnd()))) });
  add(metrics.queueCapacity, 'ingress', { pool }, { values: steps.map(() => def.queueCapacity) });
  for (const t of poolTypes) {
    add(metrics.jobsSubmitted, 'ingress', { pool, type: t.name }, { values: steps.map((s) => s.rate * typeShare(t) * step) });
    add(metrics.jobsProcessed, workerRole(pool), { pool, type: t.name, outcome: 'success' }, { values: steps.map((s) => s.rate * typeShare(t) * step) });
  }
}

/** The months ending at `end` (at least 3 h before the receiving Prometheus' now), as OpenMetrics text ending with "# EOF\n". */
export function growthHistory(opts: GrowthHistoryOptions): string {
  const o = optionsSchema.parse(opts);
  const rnd = seeded(o.seed);
  const steps = timeline(o, rnd);
  const { add, families } = roleFamilies(opts.instanceOf);
  roleSeries(steps, o.stepSeconds, rnd, add);
  for (const pool of poolNames) poolSeries(steps, o.stepSeconds, rnd, add, pool);
  return openMetricsText(families(), steps.map((s) => s.t));
}
