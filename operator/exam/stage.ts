// Stages the weekend of the Level 2 exam in the Prometheus `make up` runs: the incident's history
// (weekend-history.ts) backfilled as TSDB blocks into its data folder, then, once Prometheus
// serves it, the recording rules over it (so the panels built on them show the weekend too).
// Without a running native Prometheus the exam still runs on the live residue, and says so.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { monitoringPaths, nativePrometheusDir } from '#monitoring/native.ts';
import { backfill, backfillRules, waitForHistory } from './backfill.ts';
import { incidents, weekendHistory, type Incident } from './weekend-history.ts';

/** The history ends this long before now: the live head block (about 3 h) must not overlap it. */
const endsAgoMs = 4 * 3_600_000;
const hours = 60;

/** The staged weekend: `hours` long, ending `endsAgoMs` before `now`. */
export function weekendWindow(now = Date.now()): { start: Date; end: Date } {
  const end = new Date(now - endsAgoMs);
  return { start: new Date(end.getTime() - hours * 3_600_000), end };
}

export type StageOptions = { stateDir: string; prometheusUrl: string; progress?: (line: string) => void };

export async function stageWeekend(incident: string, opts: StageOptions): Promise<string> {
  if (!(incidents as readonly string[]).includes(incident)) return `history: not staged (no weekend for incident "${incident}")`;
  const ready = await fetch(`${opts.prometheusUrl}/-/ready`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
  if (!ready) return `history: not staged: no Prometheus at ${opts.prometheusUrl} (install it with scripts/bootstrap.sh --with-prometheus, then make up); the live system still shows the residue`;
  const dataDir = path.join(nativePrometheusDir(opts.stateDir), 'data');
  // In compose Prometheus keeps its data in its own volume, out of this container's reach.
  if (!existsSync(dataDir)) return `history: not staged: Prometheus' data folder is not here (${dataDir}); with compose the weekend is not staged yet, the live system still shows the residue`;
  const { start, end } = weekendWindow();
  opts.progress?.(`history: writing the weekend (${start.toISOString().slice(0, 16)}Z to ${end.toISOString().slice(0, 16)}Z) into Prometheus`);
  const { blocks } = await backfill(weekendHistory({ incident: incident as Incident, end, hours }), { dataDir });
  opts.progress?.('history: waiting for Prometheus to load it (it reloads its blocks every minute)');
  await waitForHistory(opts.prometheusUrl, 'up', { at: new Date(end.getTime() - 3_600_000), timeoutMs: 150_000 });
  const ruleFiles = readdirSync(monitoringPaths.rules).filter((f) => f.endsWith('.yml')).map((f) => path.join(monitoringPaths.rules, f));
  const rules = await backfillRules({ prometheusUrl: opts.prometheusUrl, start, end, ruleFiles, dataDir });
  return `history: the weekend backfilled into Prometheus (${blocks.length} blocks of samples, ${rules.blocks.length} of recording rules; the rules' blocks show within a minute)`;
}
