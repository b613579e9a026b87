// Stages the weekend of the Level 2 exam in the Prometheus `make up` runs: the incident's history
// (weekend-history.ts) backfilled as TSDB blocks into its data folder (backfill.ts). Without a
// running native Prometheus the exam still runs on the live residue, and says so.
import path from 'node:path';
import { nativePrometheusDir } from '#monitoring/native.ts';
import { backfill } from './backfill.ts';
import { incidents, weekendHistory, type Incident } from './weekend-history.ts';

/** The history ends this long before now: the live head block (about 3 h) must not overlap it. */
const endsAgoMs = 4 * 3_600_000;

export async function stageWeekend(incident: string, opts: { stateDir: string; prometheusUrl: string }): Promise<string> {
  if (!(incidents as readonly string[]).includes(incident)) return `history: not staged (no weekend for incident "${incident}")`;
  const ready = await fetch(`${opts.prometheusUrl}/-/ready`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
  if (!ready) return `history: not staged: no Prometheus at ${opts.prometheusUrl} (install it with scripts/bootstrap.sh --with-prometheus, then make up); the live system still shows the residue`;
  const end = new Date(Date.now() - endsAgoMs);
  const { blocks } = await backfill(weekendHistory({ incident: incident as Incident, end }), { dataDir: path.join(nativePrometheusDir(opts.stateDir), 'data') });
  return `history: the weekend up to ${end.toISOString().slice(0, 16)}Z backfilled into Prometheus (${blocks.length} blocks; Prometheus loads them within about a minute)`;
}
