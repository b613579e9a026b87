// History for a Prometheus that was not running at the time: samples written as the OpenMetrics
// text `promtool tsdb create-blocks-from openmetrics` reads, turned into TSDB blocks by promtool and
// moved into Prometheus' data folder, then polled for until Prometheus serves them.
//
// What Prometheus 2.42 does with them (tried here, and tsdb/db.go DB.run): blocks moved into the
// data folder of a running Prometheus are picked up without a restart, at its next block reload,
// which runs every minute (so within about 60 s); one that starts later loads them at startup,
// which is why stage.ts has the supervisor (natively) or bin/tps (compose) restart it.
// Blocks may overlap each other and the TSDB's own (2.39+ merges them), but backfilled data must
// end at least 3 hours before now: the storage docs call backfilling "the last 3 hours (the current
// head block)" unsafe, that range being still in memory and changing; backfill() refuses it.
// Backfilled blocks obey the server's retention (100 d for `make up` and compose): lab 3.5's 90 days stay.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { findBinary } from '#platform/binaries.ts';

export class BackfillError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BackfillError';
  }
}

const installHint = '`scripts/bootstrap.sh --with-prometheus` installs it (Debian\'s prometheus package brings promtool)';
const blockName = /^[0-9A-HJKMNP-TV-Z]{26}$/;
/** Younger samples belong to the head block of the Prometheus that gets them. */
export const headBlockMs = 3 * 3_600_000;
const promtoolTimeoutMs = 300_000;

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 16 * 1024 * 1024, timeout: promtoolTimeoutMs }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new BackfillError(`promtool not found at ${command}: ${installHint}`, { cause: err }));
      if (err.killed) return reject(new BackfillError(`promtool did not finish within ${promtoolTimeoutMs / 1000} s`, { cause: err }));
      reject(new BackfillError(`promtool ${args.slice(0, 3).join(' ')} failed (exit ${err.code ?? err.signal}): ${stderr.trim() || err.message}`, { cause: err }));
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
 * block, so 2-hour blocks made a 60-hour history take ten times longer; months of history take
 * longer blocks still (retention removes a block whole, when its newest sample is too old).
 */
export async function backfill(openMetrics: string, opts: { dataDir: string; promtool?: string; /** default 24 */ maxBlockHours?: number }): Promise<{ blocks: string[] }> {
  const promtool = opts.promtool ?? findBinary('promtool');
  if (!promtool) throw new BackfillError(`promtool is not installed: ${installHint}`);
  const work = await mkdtemp(path.join(os.tmpdir(), 'tps-backfill-'));
  try {
    const [input, output] = [path.join(work, 'history.om'), path.join(work, 'blocks')];
    await writeFile(input, openMetrics);
    await run(promtool, ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', `--max-block-duration=${opts.maxBlockHours ?? 24}h`, input, output]);
    const blocks = (await readdir(output)).filter((name) => blockName.test(name)).sort();
    const metas = await Promise.all(blocks.map(async (b) => JSON.parse(await readFile(path.join(output, b, 'meta.json'), 'utf8')) as { maxTime: number }));
    const last = Math.max(...metas.map((m) => m.maxTime));
    if (last > Date.now() - headBlockMs) throw new BackfillError(`the history ends at ${new Date(last).toISOString()}, less than ${headBlockMs / 3_600_000} h ago: Prometheus' head block holds that time; end it earlier`);
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

/**
 * Polls Prometheus' HTTP API until `query` evaluated at `at` returns a non-empty vector, or throws
 * after timeoutMs (poll, never sleep-as-sync). A rate(...[1m]) over 60 s samples needs `at` on
 * their grid (a whole minute) to find two samples.
 */
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

/** The moment inside a history to wait for: an hour before its end. */
export const historyMoment = (end: Date): Date => new Date(end.getTime() - 3_600_000);

/** Until Prometheus serves the history (last_over_time: lab 3.5's samples are 30 min apart, beyond
 * an instant query's 5-minute look-back). */
export const historyServed = (prometheusUrl: string, end: Date, timeoutMs = 150_000): Promise<void> =>
  waitForHistory(prometheusUrl, 'last_over_time(up[1h])', { at: historyMoment(end), timeoutMs });
