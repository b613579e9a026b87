// What the recovery tests share: a steady open-model load in the background (its ledger of
// accepted ids), the no-loss verdict, and readings of a role's /metrics (histogram quantiles
// from bucket deltas, a process's resident memory).
import { expect } from 'vitest';
import { auditJobs, type AuditResult } from '#operator/audit/audit.ts';
import { runLoad, type LoadResult } from '#loadgen/generator.ts';
import { parseMix } from '#loadgen/mix.ts';
import type { Stack } from './stack.ts';

export type BackgroundLoad = {
  /** Ids the ingress accepted so far (the ledger). */
  readonly ids: string[];
  /** Ends the arrivals, waits for the answers in flight, returns the run's summary. */
  stop(): Promise<LoadResult>;
};

export function startLoad(url: string, rate: number, mix: string): BackgroundLoad {
  const ids: string[] = [];
  const stop = new AbortController();
  const run = runLoad({
    url, rate, mix: parseMix(mix), durationMs: 120_000, concurrencyCap: 256, requestTimeoutMs: 10_000, graceMs: 10_000,
    progressEveryMs: 60_000, stop: stop.signal, onAccepted: (job) => ids.push(job.id),
  });
  return { ids, stop: () => { stop.abort(); return run; } };
}

/** Every accepted id ends completed or dead-lettered, none lost, none left in flight. */
export async function expectNoLoss(stack: Stack, ids: readonly string[], waitMs = 45_000): Promise<AuditResult> {
  expect(ids.length).toBeGreaterThan(0);
  const audit = await auditJobs(stack.nc, ids, { waitMs, serviceCUrl: stack.url('service-c') });
  expect({ lost: audit.lostIds, inFlight: audit.inFlightIds }).toEqual({ lost: [], inFlight: [] });
  expect(audit.completed + audit.deadLettered).toBe(audit.accepted);
  return audit;
}

async function metricsText(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

export type Buckets = Map<number, number>;

/** Cumulative bucket counts of a histogram, summed over the series whose labels include `labels`. */
export async function histogramBuckets(url: string, name: string, labels: Record<string, string>): Promise<Buckets> {
  const buckets: Buckets = new Map();
  for (const line of (await metricsText(url)).split('\n')) {
    const match = new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\S+)`).exec(line);
    if (!match) continue;
    const pairs = Object.fromEntries([...(match[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!Object.entries(labels).every(([k, v]) => pairs[k] === v)) continue;
    const le = pairs.le === '+Inf' ? Infinity : Number(pairs.le);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(match[2]));
  }
  return buckets;
}

/** The upper bound of the bucket holding quantile q of what was observed between two readings. */
export function quantileBound(before: Buckets, after: Buckets, q: number): { bound: number; count: number } {
  const les = [...after.keys()].sort((a, b) => a - b);
  const delta = (le: number) => (after.get(le) ?? 0) - (before.get(le) ?? 0);
  const count = delta(Infinity);
  const bound = les.find((le) => delta(le) >= q * count) ?? Infinity;
  return { bound, count };
}

export async function residentBytes(url: string): Promise<number> {
  const line = (await metricsText(url)).split('\n').find((l) => l.startsWith('process_resident_memory_bytes '));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}

export const seconds = (ms: number) => (ms / 1000).toFixed(1);
