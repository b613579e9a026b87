// The probes of recovery (lab 3.7): a role's process started again after the lab did, and
// Prometheus is back and scraping. Both read what the restarted thing reports about itself (its
// own start time), so they hold however it was stopped and brought back: the supervisor, a chaos
// fault, Docker's restart policy or `docker compose start`.
import { scrapeAll, type Target } from '#operator/status/collect.ts';
import { isFailure, prometheusApi } from '#operator/prometheus-api.ts';
import { isInstanceOf } from '#operator/supervisor/role-instances.ts';
import type { Probe } from './lab-schema.ts';
import type { LabRun } from './lab-state.ts';
import type { ProbeResult } from './probe-result.ts';

const clock = (epochMs: number) => new Date(epochMs).toISOString().slice(11, 19);

export async function restartedResult(probe: Extract<Probe, { kind: 'restarted' }>, targets: readonly Target[], run: LabRun): Promise<ProbeResult> {
  const mine = targets.filter((t) => isInstanceOf(t.role, probe.role));
  if (mine.length === 0) return { holds: false, reason: `no ${probe.role} runs here` };
  const starts = (await scrapeAll(mine)).flatMap((s) => s.samples)
    .filter((s) => s.name === 'process_start_time_seconds').map((s) => s.value * 1000);
  if (starts.length === 0) return { holds: false, reason: `${probe.role} does not answer /metrics now` };
  const latest = Math.max(...starts);
  const labStart = Date.parse(run.startedAt);
  return latest > labStart
    ? { holds: true, measured: `${probe.role} started at ${clock(latest)}, after the lab (${clock(labStart)})` }
    : { holds: false, measured: `started ${clock(latest)}`, reason: `${probe.role} has run since ${clock(latest)}, before the lab started: it has not been stopped and brought back yet` };
}

type ActiveTarget = { health: string; lastScrape: string; labels?: Record<string, string>; scrapeUrl?: string };

async function ask<T>(url: string, path: string): Promise<T | string> {
  const answer = await prometheusApi<T>(url, path, undefined, 3_000);
  return isFailure(answer) ? answer.reason : answer;
}

export async function prometheusResult(probe: Extract<Probe, { kind: 'prometheus' }>, url: string | undefined, run: LabRun, now = Date.now()): Promise<ProbeResult> {
  if (!url) return { holds: false, reason: 'no Prometheus is configured here (TPS_PROMETHEUS_URL)' };
  const [info, targets] = await Promise.all([
    ask<{ startTime: string }>(url, '/api/v1/status/runtimeinfo'),
    ask<{ activeTargets: ActiveTarget[] }>(url, '/api/v1/targets?state=active'),
  ]);
  if (typeof info === 'string') return { holds: false, reason: info };
  if (typeof targets === 'string') return { holds: false, reason: targets };
  const started = Date.parse(info.startTime);
  const labStart = Date.parse(run.startedAt);
  if (probe.restarted && !(started > labStart)) {
    return { holds: false, measured: `started ${clock(started)}`, reason: `Prometheus has run since ${clock(started)}, before the lab started: it has not been stopped and brought back yet` };
  }
  const all = targets.activeTargets;
  if (all.length === 0) return { holds: false, reason: 'Prometheus scrapes no target yet' };
  const stale = all.filter((t) => t.health !== 'up' || now - Date.parse(t.lastScrape) > probe.freshSeconds * 1000);
  const name = (t: ActiveTarget) => `${t.labels?.job ?? '?'} (${t.labels?.instance ?? t.scrapeUrl ?? '?'})`;
  if (stale.length > 0) {
    return { holds: false, reason: `Prometheus has no fresh scrape (up, within ${probe.freshSeconds} s) of ${stale.length} of ${all.length} targets: ${stale.slice(0, 4).map(name).join(', ')}${stale.length > 4 ? ', ...' : ''}` };
  }
  return { holds: true, measured: `Prometheus started ${clock(started)}, ${all.length} targets up and fresh` };
}
