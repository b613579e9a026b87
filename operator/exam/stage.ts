// Stages the weekend of the Level 2 exam in Prometheus: the incident's history (weekend-history.ts)
// backfilled as TSDB blocks into its data folder, then, once Prometheus serves it, the recording
// rules over it (so the panels built on them show the weekend too). Natively this process does it
// all (the data folder is .tps/prometheus/data). In compose Prometheus keeps its data in its own
// volume, which only its image's user may write: the tools container leaves the history in the
// hand-off folder (TPS_HISTORY_DIR) and bin/tps, once the command ends, has the
// `prometheus-history` service (Prometheus' own image, prometheus/load-history.sh) load it.
// Without a Prometheus the exam still runs on the live residue, and says so.
import { existsSync, readdirSync } from 'node:fs';
import { rename, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { monitoringPaths, nativePrometheusDir } from '#monitoring/native.ts';
import { backfill, backfillRules, waitForHistory } from './backfill.ts';
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

export type StageOptions = {
  stateDir: string; prometheusUrl: string; progress?: (line: string) => void;
  /** Compose: where to leave the history for bin/tps to load (TPS_HISTORY_DIR). */
  handoffDir?: string | undefined;
  /** The `instance` label each role's series get (the address Prometheus scrapes it at). */
  instanceOf?: (role: RoleName) => string | undefined;
};

/** The compose hand-off: the OpenMetrics text and, written last (its presence means complete),
 * the window to backfill the rules over. prometheus/load-history.sh reads both. */
async function handOff(dir: string, openMetrics: string, start: Date, end: Date): Promise<void> {
  const seconds = (d: Date) => Math.floor(d.getTime() / 1000);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'weekend.om'), openMetrics);
  const request = path.join(dir, 'request.env');
  await writeFile(`${request}.tmp`, `START=${seconds(start)}\nEND=${seconds(end)}\nAT=${seconds(end) - 3_600}\n`);
  await rename(`${request}.tmp`, request);
}

export async function stageWeekend(incident: string, opts: StageOptions): Promise<string> {
  if (!(incidents as readonly string[]).includes(incident)) return `history: not staged (no weekend for incident "${incident}")`;
  const ready = await fetch(`${opts.prometheusUrl}/-/ready`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
  if (!ready) return `history: not staged: no Prometheus at ${opts.prometheusUrl} (install it with scripts/bootstrap.sh --with-prometheus, then make up); the live system still shows the residue`;
  const dataDir = path.join(nativePrometheusDir(opts.stateDir), 'data');
  const { start, end } = weekendWindow();
  const history = () => weekendHistory({ incident: incident as Incident, end, hours, ...(opts.instanceOf ? { instanceOf: opts.instanceOf } : {}) });
  const span = `${start.toISOString().slice(0, 16)}Z to ${end.toISOString().slice(0, 16)}Z`;
  if (!existsSync(dataDir)) {
    if (!opts.handoffDir) return `history: not staged: Prometheus' data folder is not here (${dataDir}) and no TPS_HISTORY_DIR is set; the live system still shows the residue`;
    await handOff(opts.handoffDir, history(), start, end);
    return `history: the weekend (${span}) is written; bin/tps loads it into Prometheus when this command ends (by hand: docker compose --profile tools run --rm prometheus-history)`;
  }
  opts.progress?.(`history: writing the weekend (${span}) into Prometheus`);
  const { blocks } = await backfill(history(), { dataDir });
  opts.progress?.('history: waiting for Prometheus to load it (it reloads its blocks every minute)');
  await waitForHistory(opts.prometheusUrl, 'up', { at: new Date(end.getTime() - 3_600_000), timeoutMs: 150_000 });
  const ruleFiles = readdirSync(monitoringPaths.rules).filter((f) => f.endsWith('.yml')).map((f) => path.join(monitoringPaths.rules, f));
  const rules = await backfillRules({ prometheusUrl: opts.prometheusUrl, start, end, ruleFiles, dataDir });
  return `history: the weekend backfilled into Prometheus (${blocks.length} blocks of samples, ${rules.blocks.length} of recording rules; the rules' blocks show within a minute)`;
}
