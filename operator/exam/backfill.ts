// History for a Prometheus that was not running at the time: samples written as the OpenMetrics
// text `promtool tsdb create-blocks-from openmetrics` reads, turned into TSDB blocks by promtool and
// moved into Prometheus' data folder, then polled for until Prometheus serves them.
//
// What Prometheus 2.42 does with them (tried here, and tsdb/db.go DB.run): blocks moved into the
// data folder of a running Prometheus are picked up without a restart, at its next block reload,
// which runs every minute (so within about 60 s); one that starts later loads them at startup.
// Blocks may overlap each other and the TSDB's own (2.39+ merges them), but backfilled data must
// end at least 3 hours before now: the head block, still in memory, covers the last ~2-3 hours,
// and the docs call backfilling that range unsafe. Backfilled blocks obey the server's retention
// (31 d for `make up` and compose), so a weekend is kept.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { findBinary } from '#platform/binaries.ts';
import { latencyBuckets, type MetricDef } from '#platform/metrics.ts';

export class BackfillError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BackfillError';
  }
}

export type Labels = Readonly<Record<string, string>>;
/** One step of a histogram: the step's observations per bucket (cumulative over `le`, in the family's bucket order), their sum and count. */
export type HistogramStep = { buckets: readonly number[]; sum: number; count: number };
/**
 * A gauge's value or a counter's increment at each timestamp (a counter with no label set known
 * in advance, `fromFirstEvent`, appears at its first event); or a histogram's observations at each
 * timestamp (the label set appears at its first observation, as prom-client creates it).
 */
export type TextSeries = { labels: Labels; values: readonly number[]; fractional?: boolean; fromFirstEvent?: boolean } | { labels: Labels; observed: readonly HistogramStep[] };
export type TextFamily = { def: MetricDef; series: readonly TextSeries[] };

const labelText = (labels: Labels) => Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
const count = (v: number) => String(Math.round(v));
const decimal = (v: number) => String(Math.round(v * 1000) / 1000);

/** Gauges as given; counters as running totals of non-negative increments, so never decreasing. */
function plainLines(def: MetricDef, s: Extract<TextSeries, { values: unknown }>, timestamps: readonly number[]): string {
  const labels = labelText(s.labels);
  let total = 0;
  return timestamps.map((t, i) => {
    const value = def.kind === 'counter' ? (total += Math.max(0, s.values[i] ?? 0)) : (s.values[i] ?? 0);
    return !s.fromFirstEvent || total >= 0.5 ? `${def.name}{${labels}} ${(s.fractional ? decimal : count)(value)} ${t}\n` : '';
  }).join('');
}

/** Per timestamp one MetricPoint: buckets cumulative in `le` and in time, le="+Inf" equal to _count, then _sum and _count. */
function histogramLines(def: MetricDef, s: Extract<TextSeries, { observed: unknown }>, timestamps: readonly number[]): string {
  const [bounds, labels] = [def.buckets ?? latencyBuckets, labelText(s.labels)];
  const totals = { buckets: bounds.map(() => 0), sum: 0, count: 0 };
  return timestamps.map((t, i) => {
    const step = s.observed[i];
    if (step) {
      bounds.forEach((_, b) => { totals.buckets[b] = (totals.buckets[b] ?? 0) + Math.max(0, step.buckets[b] ?? 0); });
      [totals.sum, totals.count] = [totals.sum + Math.max(0, step.sum), totals.count + Math.max(0, step.count)];
    }
    const n = Math.round(totals.count);
    if (n === 0) return '';
    const line = (suffix: string, le: string, value: string) => `${def.name}${suffix}{${labels}${le}} ${value} ${t}\n`;
    // Rounding keeps the order: a bucket never exceeds the next one, nor _count (min() guards the float sums).
    let below = 0;
    const buckets = bounds.map((le, b) => line('_bucket', `,le="${le}"`, count((below = Math.min(n, Math.max(below, Math.round(totals.buckets[b] ?? 0)))))));
    return [...buckets, line('_bucket', ',le="+Inf"', count(n)), line('_sum', '', decimal(totals.sum)), line('_count', '', count(n))].join('');
  }).join('');
}

/**
 * OpenMetrics as promtool reads it: each family once (`# TYPE x counter` over `x_total` samples),
 * the samples of each series in time order with timestamps in seconds, then `# EOF`.
 */
export function openMetricsText(families: readonly TextFamily[], timestamps: readonly number[]): string {
  const out: string[] = [];
  for (const { def, series } of families) {
    const family = def.kind === 'counter' ? def.name.replace(/_total$/, '') : def.name;
    out.push(`# HELP ${family} ${def.help.replace(/[\\"]/g, '\\$&')}\n# TYPE ${family} ${def.kind}\n`);
    for (const s of series) out.push('observed' in s ? histogramLines(def, s, timestamps) : plainLines(def, s, timestamps));
  }
  return `${out.join('')}# EOF\n`;
}

const installHint = '`scripts/bootstrap.sh --with-prometheus` installs it (Debian\'s prometheus package brings promtool)';
const blockName = /^[0-9A-HJKMNP-TV-Z]{26}$/;

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new BackfillError(`promtool not found at ${command}: ${installHint}`, { cause: err }));
      reject(new BackfillError(`promtool tsdb create-blocks-from openmetrics failed (exit ${err.code ?? err.signal}): ${stderr.trim() || err.message}`, { cause: err }));
    });
  });
}

/** Into place whole: a rename, or across file systems a copy under a name Prometheus skips (not a block id), then a rename. */
async function moveBlock(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await cp(from, `${to}.tmp-for-creation`, { recursive: true });
    await rename(`${to}.tmp-for-creation`, to);
  }
}

/**
 * Writes the text to a temp file, runs promtool create-blocks-from openmetrics into a temp dir,
 * moves the blocks into dataDir; returns the block directory names. Blocks of up to a day
 * (--max-block-duration, a hidden flag of promtool 2.42): promtool parses the whole input once per
 * block, so 2-hour blocks made a 60-hour history take ten times longer.
 */
export async function backfill(openMetrics: string, opts: { dataDir: string; promtool?: string }): Promise<{ blocks: string[] }> {
  const promtool = opts.promtool ?? findBinary('promtool');
  if (!promtool) throw new BackfillError(`promtool is not installed: ${installHint}`);
  const work = await mkdtemp(path.join(os.tmpdir(), 'tps-backfill-'));
  try {
    const [input, output] = [path.join(work, 'history.om'), path.join(work, 'blocks')];
    await writeFile(input, openMetrics);
    await run(promtool, ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', '--max-block-duration=24h', input, output]);
    const blocks = (await readdir(output)).filter((name) => blockName.test(name)).sort();
    await mkdir(opts.dataDir, { recursive: true });
    for (const block of blocks) await moveBlock(path.join(output, block), path.join(opts.dataDir, block));
    return { blocks };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const queryAnswer = z.union([
  z.object({ status: z.literal('success'), data: z.object({ resultType: z.string(), result: z.array(z.unknown()) }) }),
  z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() }),
]);

/** One instant query: the number of series it returned, or why there is no answer yet. Throws on a query Prometheus refuses. */
async function instantQuery(prometheusUrl: string, query: string, at: Date, timeoutMs: number): Promise<number | string> {
  const body = new URLSearchParams({ query, time: String(at.getTime() / 1000) });
  const res = await fetch(`${prometheusUrl}/api/v1/query`, { method: 'POST', body, signal: AbortSignal.timeout(timeoutMs) }).catch((err: Error) => err);
  if (res instanceof Error) return `no answer (${res.message})`;
  const answer = queryAnswer.safeParse(await res.json().catch(() => undefined));
  if (!answer.success) return `HTTP ${res.status} (not ready?)`;
  if (answer.data.status === 'error') {
    if (answer.data.errorType === 'bad_data') throw new BackfillError(`Prometheus refuses the query ${query}: ${answer.data.error}`);
    return `${answer.data.errorType}: ${answer.data.error}`;
  }
  return answer.data.data.resultType === 'vector' ? answer.data.data.result.length : `a ${answer.data.data.resultType}, not a vector`;
}

/** Polls Prometheus' HTTP API until `query` evaluated at `at` returns a non-empty vector, or throws after timeoutMs (poll, never sleep-as-sync). */
export async function waitForHistory(prometheusUrl: string, query: string, opts: { at: Date; timeoutMs: number }): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const seen = await instantQuery(prometheusUrl, query, opts.at, Math.max(500, Math.min(5_000, deadline - Date.now())));
    if (typeof seen === 'number' && seen > 0) return;
    if (Date.now() >= deadline) {
      throw new BackfillError(`Prometheus at ${prometheusUrl} did not show ${query} at ${opts.at.toISOString()} within ${opts.timeoutMs} ms (last: ${typeof seen === 'number' ? 'an empty vector' : seen})`);
    }
    await delay(Math.min(500, Math.max(0, deadline - Date.now())));
  }
}
