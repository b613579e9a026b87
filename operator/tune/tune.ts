// The tuning harness (lab 3.2): a baseline run, then one run per value of a live parameter, each
// under the same open-model load (fixed arrival rate, so a slower system cannot slow the offered
// load down), measured the same way from every role's /metrics before the run and after its jobs
// drained: job latency p50/p99 end to end, throughput, the failed share of job attempts, refusals,
// CPU and memory. A short unmeasured warm-up at the same rate comes first. The lever (a live
// parameter, a pool's slots or queue size: levers.ts) is put back as it was at the end, whatever happens.
import { runLoad } from '#loadgen/generator.ts';
import type { MixEntry } from '#loadgen/mix.ts';
import { scrapeAll, type Collection, type Scrape } from '#operator/status/collect.ts';
import type { Target } from '#operator/status/replica-targets.ts';
import { increase, quantiles, snapshot } from '#operator/status/snapshot.ts';
import { TuneError, type TunedLever } from './levers.ts';

export { TuneError } from './levers.ts';

export const tuneGoals = ['p99', 'p50', 'throughput', 'errors', 'cpu'] as const;
export type TuneGoal = (typeof tuneGoals)[number];

export type TuneRow = {
  /** `baseline`: the value in force before the sweep (an override, or each role's start-up value);
   * `final`: the settings a lab's grader compares with its baseline (compare.ts). */
  run: 'baseline' | 'final' | number;
  p50Ms: number;
  p99Ms: number;
  /** Jobs completed per second, from the load's start until its jobs drained. */
  throughput: number;
  /** Failed job attempts over all attempts (retries and dead letters). */
  errorRate: number;
  /** Submissions the ingress refused (429/503) over all it answered. */
  refusedRate: number;
  cpuPercent: number;
  memoryMb: number;
  /** False when jobs were still queued when the wait for the drain ran out. */
  drained: boolean;
};

export type TuneResult = { parameter: string; goal: TuneGoal; rate: number; durationMs: number; rows: TuneRow[]; best?: number };

/** One measured run: the open-model load, where it goes, and how long its jobs may take to drain. */
export type RunOptions = {
  rate: number; durationMs: number; mix: readonly MixEntry[]; targets: readonly Target[];
  /** How long to wait for a run's jobs to drain. */
  drainTimeoutMs?: number;
  /** Ends the sweep early (Ctrl-C): the run under way stops, the override is put back. */
  stop?: AbortSignal;
};

export type TuneOptions = RunOptions & {
  lever: TunedLever; values: readonly number[]; goal: TuneGoal; progress?: (line: string) => void;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const samplesOf = (scrapes: readonly Scrape[], name: string) => scrapes.flatMap((s) => s.samples.filter((x) => x.name === name));

/** Polls until no job is queued or in flight; false when `timeoutMs` ran out first. */
async function untilDrained(targets: readonly Target[], timeoutMs: number): Promise<{ drained: boolean; after: Scrape[] }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const after = await scrapeAll(targets);
    if (samplesOf(after, 'tps_queue_depth').every((s) => s.value === 0)) return { drained: true, after };
    if (Date.now() > deadline) return { drained: false, after };
    await sleep(250);
  }
}

/** One run under the load, measured from every role's /metrics before it and after its jobs drained. */
export async function measure(opts: RunOptions, run: TuneRow['run']): Promise<TuneRow> {
  const ingress = opts.targets.find((t) => t.role === 'ingress');
  if (!ingress) throw new TuneError('no ingress among the targets to send the load to');
  const before = await scrapeAll(opts.targets);
  const started = Date.now();
  const load = await runLoad({ url: ingress.url, rate: opts.rate, durationMs: opts.durationMs, mix: opts.mix, concurrencyCap: 1000, ...(opts.stop ? { stop: opts.stop } : {}) });
  if (opts.stop?.aborted) throw new TuneError('stopped; the parameter is put back as it was');
  const { drained, after } = await untilDrained(opts.targets, opts.drainTimeoutMs ?? 60_000);
  const c: Collection = { at: new Date().toISOString(), seconds: (Date.now() - started) / 1000, before, after };
  const s = snapshot(c);
  const attempts = increase(c, 'tps_jobs_processed_total');
  const succeeded = increase(c, 'tps_jobs_processed_total', { outcome: 'success' });
  const latency = quantiles(c, 'tps_job_end_to_end_seconds', {});
  const answered = load.counts.responses || 1;
  return {
    run, drained,
    p50Ms: latency.p50 * 1000, p99Ms: latency.p99 * 1000,
    throughput: succeeded / c.seconds,
    errorRate: attempts ? (attempts - succeeded) / attempts : 0,
    refusedRate: (load.counts.statuses['429'] + load.counts.statuses['503']) / answered,
    cpuPercent: s.roles.reduce((a, r) => a + r.cpuPercent, 0),
    memoryMb: s.roles.reduce((a, r) => a + r.memoryMb, 0),
  };
}

/** The unmeasured warm-up before a sweep's first run. */
export const warmUpMs = (opts: RunOptions) => Math.min(5_000, opts.durationMs);

/** A row's score for a goal: higher is better. */
export const better: Record<TuneGoal, (row: TuneRow) => number> = {
  p99: (r) => -r.p99Ms, p50: (r) => -r.p50Ms, throughput: (r) => r.throughput, errors: (r) => -r.errorRate, cpu: (r) => -r.cpuPercent,
};

export async function tune(opts: TuneOptions): Promise<TuneResult> {
  const { lever } = opts;
  const rows: TuneRow[] = [];
  // Nothing to put back until the baseline is known (it may refuse: the autoscaler on).
  const baseline = await lever.baseline();
  try {
    opts.progress?.(`baseline: ${baseline}, ${opts.rate} jobs/s for ${opts.durationMs / 1000} s`);
    // Unmeasured: a cold system (JIT, connection pools) would flatter every run after the baseline.
    opts.progress?.(`warm-up: ${opts.rate} jobs/s for ${warmUpMs(opts) / 1000} s, not measured`);
    await measure({ ...opts, durationMs: warmUpMs(opts) }, 'baseline');
    rows.push(await measure(opts, 'baseline'));
    for (const value of opts.values) {
      opts.progress?.(`${lever.name} = ${lever.show(value)}: ${opts.rate} jobs/s for ${opts.durationMs / 1000} s`);
      await lever.apply(value);
      rows.push(await measure(opts, value));
    }
  } finally {
    await lever.restore();
  }
  const candidates = rows.filter((r): r is TuneRow & { run: number } => r.run !== 'baseline');
  const best = candidates.reduce<(TuneRow & { run: number }) | undefined>((a, r) => (!a || better[opts.goal](r) > better[opts.goal](a) ? r : a), undefined);
  return { parameter: lever.name, goal: opts.goal, rate: opts.rate, durationMs: opts.durationMs, rows, ...(best ? { best: best.run } : {}) };
}
