// The history the Level 2 exam stages ("Monday morning after a weekend of high load") as Prometheus
// would have scraped it from every role, as the OpenMetrics text promtool reads (written by
// backfill.ts), with one incident's signature on top. Pure and seeded. Names, types and labels
// come from the metric, pool, role and job catalogues; numbers from the configuration's defaults
// and the load mix.
// Callers' contract: `end` at least 3 h before the receiving Prometheus' now (its head block, see
// backfill.ts). The story's clock hangs on `end`, whatever the real weekday: `end` is Monday 05:00,
// 60 h start on Friday 17:00 (weekendMoment converts). Samples sit on a stepSeconds grid from the
// epoch: at 60 s a panel's rate(...[1m]) has its two samples at whole minutes, which Grafana's
// minute-multiple steps hit on Prometheus 2.x (ranges closed at both ends); 3.x needs <= 30 s.
import { z } from 'zod';
import { defaultMix, parseMix } from '#loadgen/mix.ts';
import { envSchema, poolEnv } from '#platform/config-schema.ts';
import type { FailureCodeName } from '#platform/dlq/failure-codes.ts';
import { chainServices, jobCatalogue, route, type ChainService, type JobType } from '#platform/job-catalogue.ts';
import { knownLabels, latencyBuckets, metrics, type MetricDef } from '#platform/metrics.ts';
import { maxDeliver, poolDefinitions, poolNames, workerRole, type Pool } from '#platform/pools.ts';
import { roleSpecs, type RoleName } from '#platform/roles.ts';
import { openMetricsText, roleFamilies, type HistogramStep, type Labels, type RoleSeries } from './openmetrics.ts';

export const incidents = ['slow-downstream', 'leaking-worker', 'capped-autoscaler'] as const;
export type Incident = (typeof incidents)[number];
export type WeekendOptions = {
  incident: Incident; end: Date; hours?: number /* default 60 */; stepSeconds?: number /* default 60 */; seed?: number;
  /** The `instance` label of a role's series, as the receiving Prometheus labels its target
   * (host:port); default 127.0.0.1 and the role's default port. */
  instanceOf?: (role: RoleName) => string | undefined;
};

/** Families every role has that the catalogue does not hold: Prometheus writes `up`, prom-client's default collectors the rest. */
const scraped = {
  up: { name: 'up', kind: 'gauge', help: '1 when Prometheus scraped the target.', labels: [] },
  rss: { name: 'process_resident_memory_bytes', kind: 'gauge', help: 'Resident memory size in bytes.', labels: [] },
  heap: { name: 'nodejs_heap_size_used_bytes', kind: 'gauge', help: 'Process heap size used from Node.js in bytes.', labels: [] },
  cpu: { name: 'process_cpu_seconds_total', kind: 'counter', help: 'Total user and system CPU time spent in seconds.', labels: [] },
} as const satisfies Record<string, MetricDef>;

/** For each incident, the metric names (as a candidate would name them on the dashboards) that the history shows abnormal. */
export const abnormalMetrics: Record<Incident, readonly string[]> = {
  'slow-downstream': [metrics.jobProcessing, metrics.jobsProcessed, metrics.dlqDepth, metrics.dlqAdded, metrics.circuitState, metrics.circuitTransitions,
    metrics.queueDepth, metrics.jobsRejected, metrics.autoscalerBottleneck].map((d) => d.name),
  'leaking-worker': [scraped.rss.name, scraped.heap.name],
  'capped-autoscaler': [metrics.autoscalerDesiredSlots, metrics.workerSlots, metrics.workerBusy, metrics.queueDepth, metrics.queuePending, metrics.jobsRejected].map((d) => d.name),
};

const weekDays = ['friday', 'saturday', 'sunday', 'monday'] as const;
/** `end` in story hours from Friday 00:00: Monday 05:00. */
const endHour = 3 * 24 + 5;
/** The real time of a moment of the story (Friday 17:00 ... Monday 05:00 by default) in the history ending at `end`. */
export const weekendMoment = (end: Date, day: (typeof weekDays)[number], hour: number): Date => new Date(end.getTime() + (weekDays.indexOf(day) * 24 + hour - endHour) * 3_600_000);

/** What a fresh `tps up` runs with: the configuration's defaults. */
const env = envSchema.parse({});
/** The pool whose worker leaks and whose autoscaling gets capped; the chain's last hop is the slow downstream. */
const victim: Pool = 'slow';
const slowService: ChainService = 'service-c';
/** The incidents' numbers; times in story hours from Friday 00:00. */
const story = {
  sundaySlowFrom: 2 * 24 + 13, sundaySlowTo: 2 * 24 + 21, // service-c slow on Sunday 13:00-21:00, worst at 17:00:
  serviceCSlowdown: 8, failedAttempts: 0.3, // 8 times slower, 30 % of the slow pool's attempts failing
  cappedFrom: 24, // the capped pool's slots pinned from Saturday 00:00
  leakBytes: 1.7e9, // what the leaking worker gains over the weekend
  memoryLimit: 4 * 1024 ** 3, // tps_process_memory_limit_bytes: natively the machine's RAM, here 4 GiB
};
const mix = new Map(parseMix(defaultMix).map((e) => [e.type, e.weight]));
const dlqReasons = { DOWNSTREAM_FAILED: 0.6, CIRCUIT_OPEN: 0.4 } as const satisfies Partial<Record<FailureCodeName, number>>;

/** `n` observations, log-normal around `median` seconds. */
type Component = { n: number; median: number; sigma: number };
/** `trend`: the load's daily and weekly shape (1 at the Saturday peak); `load`: with the minute's noise. */
type Step = { t: number; hour: number; trend: number; load: number; severity: number };
/** One pool at one step; rates per second. */
type PoolStep = Step & { accepted: number; rejected: number; slots: number; busy: number; depth: number; slowdown: number; fail: number; dead: number; dlq: number; pinned: boolean };
type Weekend = { incident: Incident; steps: Step[]; step: number; pools: Record<Pool, PoolStep[]>; rnd: () => number };
type Add = (def: MetricDef, role: RoleName, labels: Labels, series: RoleSeries) => void;

/** mulberry32: a small seeded PRNG (the same seed, the same weekend). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The share of a component at or below `le`; erf by Abramowitz & Stegun 7.1.26 (error < 2e-7). */
function below(c: Component, le: number): number {
  const x = Math.log(le / c.median) / (c.sigma * Math.SQRT2);
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  return 0.5 * (1 + Math.sign(x) * (1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x)));
}
const mean = (c: Component) => c.median * Math.exp((c.sigma * c.sigma) / 2);
/** One step of a histogram of `def`: the components' observations in every bucket (cumulative over `le`), their sum and count. */
function observe(def: MetricDef, cs: Component[]): HistogramStep {
  const bounds = def.buckets ?? latencyBuckets;
  return { buckets: bounds.map((le) => cs.reduce((n, c) => n + c.n * below(c, le), 0)), sum: cs.reduce((s, c) => s + c.n * mean(c), 0), count: cs.reduce((n, c) => n + c.n, 0) };
}

function timeline(o: Required<Omit<WeekendOptions, 'instanceOf'>>, rnd: () => number): Step[] {
  const [last, n] = [Math.floor(o.end.getTime() / 1000 / o.stepSeconds) * o.stepSeconds, Math.floor((o.hours * 3600) / o.stepSeconds)];
  return Array.from({ length: n + 1 }, (_, k) => {
    const t = last - (n - k) * o.stepSeconds;
    const hour = endHour + (t - o.end.getTime() / 1000) / 3600;
    const daily = 0.5 - 0.5 * Math.cos((2 * Math.PI * (hour - 3)) / 24); // 0 at 03:00, 1 at 15:00
    const trend = (0.45 + 0.55 * daily) * ([0.8, 1, 0.85][Math.floor(hour / 24)] ?? 0.7);
    const sunday = (hour - story.sundaySlowFrom) / (story.sundaySlowTo - story.sundaySlowFrom);
    const severity = o.incident === 'slow-downstream' && sunday > 0 && sunday < 1 ? Math.sin(Math.PI * sunday) : 0;
    return { t, hour, trend, load: trend * (0.97 + 0.06 * rnd()), severity };
  });
}

/** One attempt of a job type: the chain's work along its route (service-c's times `slowdown`), a little slower under load. */
function attempt(type: JobType, slowdown: number, load: number): Component {
  const hops = route(type).map((s) => ({ s, w: type.work[s] ?? { latencyMs: 0, jitterMs: 0 } }));
  const ms = hops.reduce((sum, h) => sum + h.w.latencyMs * (h.s === slowService ? slowdown : 1), 2);
  return { n: 1, median: Math.min((0.9 * poolDefinitions[type.pool].attemptTimeoutMs) / 1000, (ms / 1000) * (1 + 0.2 * load ** 4)), sigma: 0.15 + hops.reduce((sum, h) => sum + h.w.jitterMs, 0) / ms };
}
const poolTypes = (pool: Pool) => Object.values(jobCatalogue).filter((t) => t.pool === pool && mix.has(t.name));
const share = (type: JobType) => (mix.get(type.name) ?? 0) / poolTypes(type.pool).reduce((s, t) => s + (mix.get(t.name) ?? 0), 0);
const attemptSeconds = (pool: Pool, slowdown: number, load: number) => poolTypes(pool).reduce((s, t) => s + share(t) * mean(attempt(t, slowdown, load)), 0);

/** Slots the autoscaler wants for `need` busy slots: AUTOSCALER_STEP_PERCENT steps up from its minimum until under AUTOSCALER_UP_UTILIZATION. */
function wanted(pool: Pool, need: number): number {
  const { autoscalerMin, autoscalerMax } = poolEnv(env, pool);
  let slots = autoscalerMin;
  while (need > (slots * env.AUTOSCALER_UP_UTILIZATION) / 100 && slots < autoscalerMax) slots = Math.min(autoscalerMax, Math.ceil(slots * (1 + env.AUTOSCALER_STEP_PERCENT / 100)));
  return slots;
}

/** A pool through the weekend: arrivals peak on Saturday at twice its initial slots' worth; what its slots cannot take fills the queue, then is refused. */
function poolSteps(pool: Pool, incident: Incident, steps: Step[], step: number, rnd: () => number): PoolStep[] {
  const def = poolDefinitions[pool];
  const viaSlowService = poolTypes(pool).some((t) => route(t).includes(slowService));
  const peak = (0.75 * 2 * def.slots.initial) / attemptSeconds(pool, 1, 1);
  let dlq = 0;
  return steps.map((at) => {
    const severity = viaSlowService ? at.severity : 0;
    const [slowdown, fail] = [1 + (story.serviceCSlowdown - 1) * severity, story.failedAttempts * severity];
    const seconds = attemptSeconds(pool, slowdown, at.load) * (1 + fail);
    const pinned = incident === 'capped-autoscaler' && pool === victim && at.hour >= story.cappedFrom;
    const slots = pinned ? Math.max(1, def.slots.initial / 4) : wanted(pool, peak * at.trend * attemptSeconds(pool, 1, at.trend));
    const [arrivals, full] = [peak * at.load, peak * at.load * seconds > 0.95 * slots];
    const accepted = full ? (0.95 * slots) / seconds : arrivals;
    const dead = accepted * fail ** maxDeliver(def);
    dlq += dead * step;
    const depth = full ? def.queueCapacity - Math.floor(rnd() * 3) : Math.round(def.queueCapacity * 0.92 * at.trend ** 4 * (0.98 + 0.04 * rnd()));
    return { ...at, accepted, rejected: arrivals - accepted, slots, busy: Math.round(Math.min(slots, accepted * seconds)), depth, slowdown, fail, dead, dlq: Math.round(dlq), pinned };
  });
}

/** What every role exports: `up`, memory (the leaking worker's climbing all weekend) and CPU. */
function processSeries(w: Weekend, add: Add): void {
  for (const { name } of roleSpecs) {
    const leak = (i: number) => (w.incident === 'leaking-worker' && name === workerRole(victim) ? (story.leakBytes * i) / w.steps.length : 0);
    const busy = name === 'autoscaler' ? 0 : 1;
    add(scraped.up, name, {}, { values: w.steps.map(() => 1) });
    add(scraped.rss, name, {}, { values: w.steps.map((s, i) => 75e6 + 35e6 * busy * s.load + 4e6 * w.rnd() + leak(i)) });
    add(scraped.heap, name, {}, { values: w.steps.map((s, i) => 20e6 + 14e6 * busy * s.load + 6e6 * w.rnd() + 0.85 * leak(i)) });
    add(metrics.processMemoryLimit, name, {}, { values: w.steps.map(() => story.memoryLimit) });
    add(scraped.cpu, name, {}, { values: w.steps.map((s) => w.step * (0.01 + 0.45 * busy * s.load * (0.9 + 0.2 * w.rnd()))), fractional: true });
  }
}

/** The ingress: jobs admitted and refused (queue full), each queue's depth; a worker: slots, queue and DLQ gauges, attempts. */
function poolSeries(w: Weekend, add: Add, pool: Pool): void {
  const [ps, role, d] = [w.pools[pool], workerRole(pool), maxDeliver(poolDefinitions[pool])];
  const gauges = [[metrics.queueDepth, 'ingress', (p: PoolStep) => p.depth], [metrics.queueCapacity, 'ingress', () => poolDefinitions[pool].queueCapacity],
    [metrics.workerSlots, role, (p: PoolStep) => p.slots], [metrics.workerBusy, role, (p: PoolStep) => p.busy], [metrics.queueInflight, role, (p: PoolStep) => p.busy],
    [metrics.queuePending, role, (p: PoolStep) => Math.max(0, p.depth - p.busy)], [metrics.dlqDepth, role, (p: PoolStep) => p.dlq],
    [metrics.dlqCapacity, role, () => env.DLQ_CAPACITY], [metrics.dlqBlocked, role, () => 0]] as const;
  for (const [def, r, value] of gauges) add(def, r, { pool }, { values: ps.map(value) });
  add(metrics.jobsRejected, 'ingress', { pool, reason: 'queue_full' }, { values: ps.map((p) => p.rejected * w.step) });
  for (const type of poolTypes(pool)) {
    const jobs = (p: PoolStep) => p.accepted * share(type) * w.step;
    const outcomes = { success: (p: PoolStep) => jobs(p) * (1 - p.fail ** d), retry: (p: PoolStep) => jobs(p) * p.fail, dead_lettered: (p: PoolStep) => jobs(p) * p.fail ** d };
    add(metrics.jobsSubmitted, 'ingress', { pool, type: type.name }, { values: ps.map(jobs) });
    for (const outcome of knownLabels.outcome) add(metrics.jobsProcessed, role, { pool, type: type.name, outcome }, { values: ps.map(outcomes[outcome]) });
    // A failed attempt waited for service-b's timeout on service-c, or failed fast at an open breaker.
    add(metrics.jobProcessing, role, { pool, type: type.name }, { observed: ps.map((p) => observe(metrics.jobProcessing, [{ ...attempt(type, p.slowdown, p.load), n: outcomes.success(p) },
      { n: outcomes.retry(p) * 0.6, median: env.TIMEOUT_SERVICE_C_MS / 1000, sigma: 0.05 }, { n: outcomes.retry(p) * 0.4, median: 0.004, sigma: 0.4 }])) });
  }
  for (const [reason, part] of Object.entries(dlqReasons)) add(metrics.dlqAdded, role, { pool, reason }, { values: ps.map((p) => p.dead * part * w.step), fromFirstEvent: true });
}

/** Breakers (one per caller -> target; the one into service-c opens while it is slow); each hop's share of the workers' busy slots. */
function chainSeries(w: Weekend, add: Add): void {
  const callers = (k: number): RoleName[] => (k === 0 ? poolNames.map((p) => workerRole(p)) : [chainServices[k - 1] ?? 'service-a']);
  chainServices.forEach((target, k) => callers(k).forEach((caller) => {
    const [circuit, sick] = [`${caller}->${target}`, (s: Step) => (target === slowService && s.severity > 0.3 ? s.severity : 0)];
    add(metrics.circuitState, caller, { circuit }, { values: w.steps.map((s) => (sick(s) ? [0, 1, 2, 2][Math.floor(w.rnd() * 4)] ?? 0 : 0)) });
    for (const to of knownLabels.circuitTo) add(metrics.circuitTransitions, caller, { circuit, to }, { values: w.steps.map((s) => (sick(s) * 12 * w.step) / 3600) });
  }));
  const ms = (type: JobType, hops: readonly ChainService[], slowdown: number) => hops.reduce((sum, h) => sum + (type.work[h]?.latencyMs ?? 0) * (h === slowService ? slowdown : 1), 0);
  for (const service of chainServices) {
    // A worker's call holds a slot of every hop from this one to the end of the job's route.
    const part = (type: JobType, slowdown: number) => (route(type).includes(service) ? ms(type, route(type).slice(route(type).indexOf(service)), slowdown) / ms(type, route(type), slowdown) : 0);
    const inflight = (i: number) => poolNames.reduce((n, pool) => n + poolTypes(pool).reduce((sum, t) => sum + (w.pools[pool][i]?.busy ?? 0) * share(t) * part(t, w.pools[pool][i]?.slowdown ?? 1), 0), 0);
    add(metrics.serviceInflight, service, { service }, { values: w.steps.map((_, i) => inflight(i)) });
    add(metrics.serviceWaiting, service, { service }, { values: w.steps.map(() => 0) });
  }
}

/** The autoscaler: slots it wants (pinned low for the capped pool), its decisions, holds at a bottleneck downstream. */
function autoscalerSeries(w: Weekend, add: Add): void {
  add(metrics.autoscalerEnabled, 'autoscaler', {}, { values: w.steps.map(() => 1) });
  for (const pool of poolNames) {
    const ps = w.pools[pool];
    const [held, notable] = [(p?: PoolStep) => +((p?.slowdown ?? 1) > 1.5), (p?: PoolStep) => +((p?.slowdown ?? 1) > 1.5 || !!p?.pinned)];
    const decisions = { up: ps.map((p, i) => +(p.slots > (ps[i - 1]?.slots ?? p.slots))), down: ps.map((p, i) => +(p.slots < (ps[i - 1]?.slots ?? p.slots))),
      hold: ps.map((p, i) => +(notable(p) > notable(ps[i - 1]))) }; // a change, or entering a notable hold (at its maximum, at a bottleneck)
    add(metrics.autoscalerDesiredSlots, 'autoscaler', { pool }, { values: ps.map((p) => p.slots) });
    add(metrics.autoscalerBottleneck, 'autoscaler', { pool }, { values: ps.map(held) });
    for (const direction of knownLabels.direction) add(metrics.autoscalerDecisions, 'autoscaler', { pool, direction }, { values: decisions[direction] });
  }
}

const optionsSchema = z.object({
  incident: z.enum(incidents), end: z.date().refine((d) => Number.isFinite(d.getTime()), 'a valid date'),
  hours: z.number().positive().max(31 * 24).default(60), stepSeconds: z.number().int().min(1).max(3600).default(60), seed: z.number().int().default(1),
});

/** The weekend ending at `end` (at least 3 h before the receiving Prometheus' now), as OpenMetrics text ending with "# EOF\n". */
export function weekendHistory(opts: WeekendOptions): string {
  const o = optionsSchema.parse(opts);
  const rnd = seeded(o.seed);
  const steps = timeline(o, rnd);
  const w: Weekend = { incident: o.incident, steps, step: o.stepSeconds, rnd, pools: Object.fromEntries(poolNames.map((p) => [p, poolSteps(p, o.incident, steps, o.stepSeconds, rnd)])) as Record<Pool, PoolStep[]> };
  const { add, families } = roleFamilies(opts.instanceOf);
  processSeries(w, add);
  for (const pool of poolNames) poolSeries(w, add, pool);
  chainSeries(w, add);
  autoscalerSeries(w, add);
  return openMetricsText(families(), steps.map((s) => s.t));
}
