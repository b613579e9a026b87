// What `tps canary status` (and `tps status`) compare: for each declared canary, the stable and the
// canary track side by side, as the caller counted and timed its calls to each (tps_canary_*),
// each track's breaker on the caller, and each version's process (CPU, memory). The counts are the
// caller's since it started counting for this service: since the first canary it saw.
import { canaryCaller, canaryName, canaryServices, type CanaryService, type CanaryValue } from '#platform/canary.ts';
import type { ControlStore } from '#platform/control/store.ts';
import { scrapeAll, type Collection, type Scrape } from '#operator/status/collect.ts';
import type { Target } from '#operator/status/replica-targets.ts';
import { increase, quantiles } from '#operator/status/snapshot.ts';
import { isInstanceOf } from '#operator/supervisor/role-instances.ts';

export type TrackView = {
  track: 'stable' | 'canary'; version: string;
  calls: number; failed: number; errorPercent: number; p50Ms: number; p99Ms: number;
  /** The caller's breaker to this track: closed, half-open, open (undefined: none yet). */
  breaker?: string;
  /** The track's process: CPU seconds so far and resident memory. */
  cpuSeconds?: number; memoryMb?: number;
};
export type CanaryView = { service: CanaryService; value: CanaryValue; tracks: TrackView[] };

const breakerStates = ['closed', 'half-open', 'open'];
const sampleOf = (scrapes: readonly Scrape[], name: string, labels: Record<string, string> = {}) =>
  scrapes.flatMap((s) => s.samples).find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));

function track(c: Collection, service: CanaryService, value: CanaryValue, name: 'stable' | 'canary', processes: readonly Scrape[]): TrackView {
  const version = name === 'canary' ? value.version : value.stable;
  const m = { target: service, track: name, version };
  const calls = increase(c, 'tps_canary_calls_total', m);
  const failed = increase(c, 'tps_canary_calls_total', { ...m, outcome: 'failure' });
  const q = quantiles(c, 'tps_canary_call_duration_seconds', m);
  const circuit = `${canaryCaller[service]}->${name === 'canary' ? canaryName(service) : service}`;
  const state = sampleOf(c.after, 'tps_circuit_state', { circuit })?.value;
  const cpu = sampleOf(processes, 'process_cpu_seconds_total')?.value;
  const rss = sampleOf(processes, 'process_resident_memory_bytes')?.value;
  return {
    track: name, version, calls, failed, errorPercent: calls ? (failed * 100) / calls : 0, p50Ms: q.p50 * 1000, p99Ms: q.p99 * 1000,
    ...(state !== undefined ? { breaker: breakerStates[state] ?? String(state) } : {}),
    ...(cpu !== undefined ? { cpuSeconds: cpu } : {}), ...(rss !== undefined ? { memoryMb: rss / 1024 ** 2 } : {}),
  };
}

/** Every declared canary (running, promoted or rolled back), compared by track. */
export async function canaryViews(control: ControlStore, targets: readonly Target[]): Promise<CanaryView[]> {
  const declared = (await Promise.all(canaryServices.map(async (service) => ({ service, value: await control.canary(service) }))))
    .filter((d): d is { service: CanaryService; value: CanaryValue } => d.value !== undefined);
  if (declared.length === 0) return [];
  const scrapes = await scrapeAll(targets);
  const of = (role: string, exact = false) => scrapes.filter((s) => (exact ? s.target.role === role : isInstanceOf(s.target.role, role)));
  return declared.map(({ service, value }) => {
    const c: Collection = { at: new Date().toISOString(), seconds: 0, before: [], after: of(canaryCaller[service]) };
    return {
      service, value,
      tracks: [track(c, service, value, 'stable', of(service, true)), track(c, service, value, 'canary', of(canaryName(service), true))],
    };
  });
}
