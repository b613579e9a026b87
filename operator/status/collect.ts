// Where the roles are and what they report: scrapes every role's /metrics twice, a short
// interval apart, so rates (throughput, error rate, latency percentiles) can be computed
// without a Prometheus. Targets come from the native supervisor's state or are given.
import { getText } from '#platform/http/bounded-request.ts';
import { stateDir } from '#platform/paths.ts';
import { extraNames } from '#operator/supervisor/extras.ts';
import { sameProcess } from '../supervisor/process-stamp.ts';
import { readState } from '../supervisor/state-file.ts';
import { parseMetrics, type Sample } from './parse.ts';
import { everyAddress, scrapeTimeoutMs, type Target } from './replica-targets.ts';

export type { Target };

export type Scrape = { target: Target; samples: Sample[]; error?: string };
export type Collection = { at: string; seconds: number; before: Scrape[]; after: Scrape[] };

export function nativeTargets(configuredStateDir: string): Target[] {
  const state = readState(stateDir(configuredStateDir));
  if (!state || state.phase === 'stopped') return [];
  return state.processes.filter((p) => p.url && !(extraNames as readonly string[]).includes(p.name)).map((p) => ({ role: p.name, url: p.url as string }));
}

/** What the native supervisor warns about while it runs (a NATS without TPS Lab's users), or that it is gone. */
export function nativeWarnings(configuredStateDir: string): string[] {
  const state = readState(stateDir(configuredStateDir));
  if (!state || state.phase === 'stopped') return [];
  const gone = (state.phase === 'running' || state.phase === 'starting') && !sameProcess(state.pid, state.stamp)
    ? [`WARNING: the supervisor (pid ${state.pid}) is gone without stopping what it started: nothing restarts a role that dies. \`make down\` stops what it left running; then \`make up\`.`]
    : [];
  return [...gone, ...(state.nats.warning ? [state.nats.warning] : [])];
}

/** "ingress=http://127.0.0.1:8080,worker-fast=http://..." -> targets. */
export function parseTargets(spec: string): Target[] {
  return spec.split(',').map((pair) => {
    const [role, url] = pair.split('=');
    if (!role || !url || !/^https?:\/\//.test(url)) throw new Error(`bad target "${pair}"; expected role=http://host:port`);
    return { role, url: url.replace(/\/+$/, '') };
  });
}

async function scrape(target: Target): Promise<Scrape> {
  try {
    const res = await getText(`${target.url}/metrics`, scrapeTimeoutMs);
    if (res.status < 200 || res.status >= 300) return { target, samples: [], error: `HTTP ${res.status}` };
    return { target, samples: parseMetrics(res.text) };
  } catch (err) {
    return { target, samples: [], error: (err as Error).message };
  }
}

/** One scrape of every role (every address of a replicated one). */
export async function scrapeAll(given: readonly Target[]): Promise<Scrape[]> {
  return Promise.all((await everyAddress(given)).map(scrape));
}

export async function collect(given: Target[], intervalMs: number): Promise<Collection> {
  const targets = await everyAddress(given);
  const before = await Promise.all(targets.map(scrape));
  const started = Date.now();
  await new Promise((resolve) => setTimeout(resolve, intervalMs));
  const after = await Promise.all(targets.map(scrape));
  return { at: new Date().toISOString(), seconds: (Date.now() - started) / 1000, before, after };
}
