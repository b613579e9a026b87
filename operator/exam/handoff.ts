// The compose hand-off of a staged history (stage.ts): the tools container cannot write
// Prometheus' volume, so it leaves the history in TPS_HISTORY_DIR (.tps/compose/history/ on the
// host) and bin/tps, once the command ends, has Prometheus' own image load it
// (prometheus/load-history.sh), restarting Prometheus between the steps (scripts/stack.sh):
//   1. history.om -> blocks (PHASE=blocks), restart;
//   2. the recording rules evaluated over it by a second tools container (`tps exam history-rules`,
//      evaluateHandedOffRules below) into rules.om: Prometheus' image has no Node;
//   3. rules.om -> blocks (PHASE=rules), restart, wait until they show (PHASE=ready).
import { randomUUID } from 'node:crypto';
import { readFile, rename, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { BackfillError, historyMoment, historyServed } from './backfill.ts';
import { recordedHistory } from './recorded-history.ts';

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

/** Written whole: a reader never sees half a file (a temp name, then a rename). */
async function writeWhole(file: string, text: string): Promise<void> {
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
}

/** The OpenMetrics text and, written last (its presence means complete), the request
 * prometheus/load-history.sh reads: window, moment to wait for, block length, rules, and an id of
 * its own, so bin/tps tells the hand-off of the command it ran from one an earlier command left. */
export async function handOff(dir: string, spec: { start: Date; end: Date; openMetrics: () => string; blockHours: number; rules: boolean }): Promise<void> {
  await mkdir(dir, { recursive: true }).catch((err: Error) => {
    throw new BackfillError(`history: the hand-off folder ${dir} (TPS_HISTORY_DIR) cannot be made: ${err.message}`, { cause: err });
  });
  await writeFile(path.join(dir, 'history.om'), spec.openMetrics());
  await writeWhole(path.join(dir, 'request.env'), `START=${seconds(spec.start)}\nEND=${seconds(spec.end)}\nAT=${seconds(historyMoment(spec.end))}\nBLOCK_HOURS=${spec.blockHours}\nRULES=${spec.rules ? 1 : 0}\nHANDOFF=${randomUUID()}\n`);
}

/** START and END of the hand-off's request.env, or why there is nothing to evaluate. */
async function handedOffWindow(dir: string): Promise<{ start: Date; end: Date }> {
  const request = await readFile(path.join(dir, 'request.env'), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new BackfillError(`history: nothing handed off in ${dir} (no request.env): stage a history first (tps exam 2 start)`);
    throw new BackfillError(`history: ${dir}/request.env cannot be read: ${err.message}`, { cause: err });
  });
  const field = (key: string) => Number(request.match(new RegExp(`^${key}=(\\d+)$`, 'm'))?.[1] ?? Number.NaN);
  const [start, end] = [field('START'), field('END')];
  if (!Number.isFinite(start) || !Number.isFinite(end) || start >= end) throw new BackfillError(`history: ${dir}/request.env has no valid START and END (Unix seconds)`);
  return { start: new Date(start * 1000), end: new Date(end * 1000) };
}

/**
 * Step 2 above: once the restarted Prometheus serves the handed-off history, the recording rules
 * over it, as rules.om beside it; says what it wrote.
 */
export async function evaluateHandedOffRules(dir: string, prometheusUrl: string, progress: (line: string) => void, servedWithinMs = 150_000): Promise<string> {
  const window = await handedOffWindow(dir);
  progress('history: waiting for Prometheus to serve it');
  await historyServed(prometheusUrl, window.end, servedWithinMs);
  const text = await recordedHistory(prometheusUrl, { what: 'the history', ...window }, progress);
  await writeWhole(path.join(dir, 'rules.om'), text);
  return 'history: the recording rules\' series are written beside it (rules.om)';
}
