// Stages a history in Prometheus: the Level 2 exam's weekend (weekend-history.ts) or lab 3.5's
// three months of growth (operator/capacity/growth-history.ts), backfilled as TSDB blocks into its
// data folder, then, once Prometheus serves it, the recording rules over it where asked (so the
// panels built on them show it too). Natively this process does it all (the data folder is
// .tps/prometheus/data). In compose Prometheus keeps its data in its own volume, which only its
// image's user may write: the tools container leaves the history in the hand-off folder
// (TPS_HISTORY_DIR) and bin/tps, once the command ends, has the `prometheus-history` service
// (Prometheus' own image, prometheus/load-history.sh) load it, and a second tools container
// evaluate the rules over it (handoff.ts).
// Without a Prometheus the lab still runs on the live system, and says so.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { nativePrometheusDir } from '#monitoring/native.ts';
import { backfill, historyMoment, historyServed, waitForHistory } from './backfill.ts';
import { handOff } from './handoff.ts';
import { recordedHistory } from './recorded-history.ts';
import { restartRole, RestartRefused } from '#operator/supervisor/restart-role.ts';
import type { RoleName } from '#platform/roles.ts';
import { incidents, weekendHistory, type Incident } from './weekend-history.ts';

/** The history ends this long before now: the live head block (about 3 h) must not overlap it. */
const endsAgoMs = 4 * 3_600_000;
const hours = 60;

/** The staged weekend: `hours` long, ending `endsAgoMs` before `now`. */
export function weekendWindow(now = Date.now()): { start: Date; end: Date } {
  const end = new Date(now - endsAgoMs);
  return { start: new Date(end.getTime() - hours * 3_600_000), end };
}

/** A window of `hours` ending `endsAgoMs` before now. */
export const historyWindow = (lengthHours: number, now = Date.now()): { start: Date; end: Date } => {
  const end = new Date(now - endsAgoMs);
  return { start: new Date(end.getTime() - lengthHours * 3_600_000), end };
};

export type StageOptions = {
  stateDir: string; prometheusUrl: string; progress?: (line: string) => void;
  /** Compose: where to leave the history for bin/tps to load (TPS_HISTORY_DIR). */
  handoffDir?: string | undefined;
  /** The `instance` label each role's series get (the address Prometheus scrapes it at). */
  instanceOf?: (role: RoleName) => string | undefined;
  /** How to restart Prometheus so it loads the moved blocks at once; false where nothing can (it
   * then waits for Prometheus' block reload). Default: ask the supervisor (native mode). */
  restartPrometheus?: () => Promise<boolean>;
};

/** What to stage: its name in messages, the window, the text, promtool's block length, whether the rules are backfilled over it. */
export type HistorySpec = { what: string; start: Date; end: Date; openMetrics: () => string; blockHours: number; rules: boolean };

/** Backfills `spec` into the Prometheus at opts.prometheusUrl, or hands it off (compose); says what it did. */
export async function stageHistory(spec: HistorySpec, opts: StageOptions): Promise<string> {
  const ready = await fetch(`${opts.prometheusUrl}/-/ready`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
  if (!ready) return `history: not staged: no Prometheus at ${opts.prometheusUrl} (install it with scripts/bootstrap.sh --with-prometheus, then make up); the live system is all there is`;
  const dataDir = path.join(nativePrometheusDir(opts.stateDir), 'data');
  const span = `${spec.start.toISOString().slice(0, 16)}Z to ${spec.end.toISOString().slice(0, 16)}Z`;
  if (!existsSync(dataDir)) {
    if (!opts.handoffDir) return `history: not staged: Prometheus' data folder is not here (${dataDir}) and no TPS_HISTORY_DIR is set; the live system is all there is`;
    await handOff(opts.handoffDir, spec);
    return `history: ${spec.what} (${span}) is written; bin/tps loads it into Prometheus when this command ends (by hand: scripts/compose.sh load-history)`;
  }
  opts.progress?.(`history: writing ${spec.what} (${span}) into Prometheus`);
  const { blocks } = await backfill(spec.openMetrics(), { dataDir, maxBlockHours: spec.blockHours });
  const restarted = await restartPrometheus(opts);
  if (!restarted) opts.progress?.('history: waiting for Prometheus to load it (it reloads its blocks every minute)');
  await historyServed(opts.prometheusUrl, spec.end);
  if (!spec.rules) return `history: ${spec.what} backfilled into Prometheus (${blocks.length} blocks)`;
  const rules = await backfill(await recordedHistory(opts.prometheusUrl, spec, opts.progress), { dataDir, maxBlockHours: spec.blockHours });
  const shown = restarted && (await restartPrometheus(opts)) ? await recordedSeriesShown(opts.prometheusUrl, spec.end) : 'show within a minute';
  return `history: ${spec.what} backfilled into Prometheus (${blocks.length} blocks of samples, ${rules.blocks.length} of recording rules; the rules' blocks ${shown})`;
}

/** After the restart that loads the rules' blocks: a recorded series (a colon in its name) inside
 * the history, allowed a block reload's time (should a block load late), as compose's does
 * (prometheus/load-history.sh, PHASE=ready). */
async function recordedSeriesShown(prometheusUrl: string, end: Date): Promise<string> {
  await waitForHistory(prometheusUrl, 'count({__name__=~".+:.+"})', { at: historyMoment(end), timeoutMs: 90_000 });
  return 'shown now';
}

/**
 * Prometheus loads new blocks at start, or at its block reload once a minute. Natively the
 * supervisor runs it: a restart (its WAL keeps what it scraped) has the history served in a few
 * seconds instead of up to a minute, as bin/tps does in compose. False where no supervisor runs it.
 */
async function restartPrometheus(opts: StageOptions): Promise<boolean> {
  if (!(await (opts.restartPrometheus ?? (() => restartBySupervisor(opts.stateDir)))())) return false;
  opts.progress?.('history: Prometheus restarted to load it at once');
  const deadline = Date.now() + 60_000;
  while (!(await fetch(`${opts.prometheusUrl}/-/ready`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false))) {
    if (Date.now() > deadline) throw new Error(`Prometheus at ${opts.prometheusUrl} was restarted to load the history and is not ready after 60 s (its log: .tps/logs/prometheus.log)`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return true;
}

async function restartBySupervisor(stateDir: string): Promise<boolean> {
  try {
    await restartRole(stateDir, 'prometheus', { timeoutMs: 60_000 });
    return true;
  } catch (err) {
    if (err instanceof RestartRefused) return false;
    throw err;
  }
}

export async function stageWeekend(incident: string, opts: StageOptions): Promise<string> {
  if (!(incidents as readonly string[]).includes(incident)) return `history: not staged (no weekend for incident "${incident}")`;
  const { start, end } = weekendWindow();
  const openMetrics = () => weekendHistory({ incident: incident as Incident, end, hours, ...(opts.instanceOf ? { instanceOf: opts.instanceOf } : {}) });
  return stageHistory({ what: 'the weekend', start, end, openMetrics, blockHours: 24, rules: true }, opts);
}
