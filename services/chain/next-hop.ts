// How a hop reaches the next one, with the two levers of handbook 6.1 and labs 3.1 and 3.4, both off
// unless switched on (at start, or live with `tps config set`):
// - a cache of the next hop's answer per job type, kept `cacheMs`: a hit answers without calling
//   the next hop at all (the in-memory cache that takes a hop's latency off the path);
// - a fallback while the next hop fails (its breaker open, a timeout, a 5xx): the last answer
//   kept for the job type, however old, else a declared degraded answer. The job completes, and
//   the failure stops at this tier instead of cascading up (lab 3.1).
// A 4xx is never covered: the request itself is wrong. The cache is bounded (least recently used
// out first), so it cannot grow without end (handbook 6.3).
// The cache never lets its own expiry become a stampede on the slow hop it shields: misses of one
// key while a call for it is out share that call, and a hit in the last fifth of its life answers
// from the cache and refreshes the entry with one call in the background. Without that, every job
// of a type called a 2.8 s hop at once each time the entry expired, its slots held and the hop's
// breaker tripping on the timeouts (seen in the Level 3 exam's database failure).
// A refresh is the hop's own call, not the job's that found the entry ageing (that job has its
// answer already): an id of its own (the next hop keeps answers by job id, and would hand a refresh
// the one it gave that job), a deadline of the call's own timeout, and a trace of its own rather
// than a span left running in the job's trace after the job answered.
import { randomUUID } from 'node:crypto';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import type { DownstreamClient, HopResult } from '#platform/http/downstream.ts';
import { ClientError } from '#platform/breaker.ts';
import { counter, knownLabels, labelSets, metrics, type MetricsRegistry } from '#platform/metrics.ts';

export type NextHopSettings = { cacheMs: number; fallback: boolean };
type Request = Parameters<DownstreamClient['call']>[0];
type Kept = { result: HopResult; at: number };

export const cacheEntries = 1_000;

export function createNextHop(next: DownstreamClient, opts: { caller: string; target: string; registry: MetricsRegistry; settings: NextHopSettings }) {
  const { caller, target, settings } = opts;
  const kept = new Map<string, Kept>();
  const lookups = counter(opts.registry, metrics.cacheRequests, labelSets({ caller: [caller], target: [target], result: knownLabels.cacheResult }));
  const fallbacks = counter(opts.registry, metrics.fallbacks, labelSets({ caller: [caller], target: [target], source: knownLabels.fallbackSource }));
  const key = (r: Request) => (r.payload === undefined ? r.type : `${r.type}:${JSON.stringify(r.payload)}`);
  const keep = (k: string, result: HopResult) => {
    kept.delete(k);
    kept.set(k, { result, at: Date.now() });
    if (kept.size > cacheEntries) kept.delete(kept.keys().next().value as string);
  };

  const refreshOf = (request: Request): Request => ({
    jobId: `refresh-${randomUUID()}`, type: request.type, attempt: 1, deadline: Date.now() + next.breaker.policy.timeoutMs,
    ...(request.payload === undefined ? {} : { payload: request.payload }),
  });
  const callAndKeep = (k: string, request: Request) => next.call(request).then((result) => {
    if (settings.cacheMs > 0 || settings.fallback) keep(k, result);
    return result;
  });
  // While caching, one call per key is out at a time: the others wait for its answer.
  const outstanding = new Map<string, Promise<HopResult>>();
  const shared = (k: string, request: Request): Promise<HopResult> => {
    const out = outstanding.get(k);
    if (out) return out;
    const call = callAndKeep(k, request).finally(() => outstanding.delete(k));
    outstanding.set(k, call);
    return call;
  };

  return {
    async call(request: Request): Promise<HopResult> {
      const k = key(request);
      if (settings.cacheMs > 0) {
        const hit = kept.get(k);
        const age = hit ? Date.now() - hit.at : Infinity;
        lookups.inc({ caller, target, result: age <= settings.cacheMs ? 'hit' : 'miss' });
        if (hit && age <= settings.cacheMs) {
          // A failed refresh is the breaker's to count; the entry serves on until it expires.
          if (age > settings.cacheMs * 0.8) context.with(ROOT_CONTEXT, () => shared(k, refreshOf(request))).catch(() => undefined);
          return { ...hit.result, ms: 0, from: 'cache' };
        }
      }
      try {
        return await (settings.cacheMs > 0 ? shared(k, request) : callAndKeep(k, request));
      } catch (err) {
        if (!settings.fallback || err instanceof ClientError) throw err;
        const last = kept.get(k);
        fallbacks.inc({ caller, target, source: last ? 'cache' : 'declared' });
        next.breaker.countFallback();
        return last ? { ...last.result, ms: 0, from: 'fallback-cache' } : { service: target, ms: 0, from: 'fallback-declared' };
      }
    },
    /** Entries kept now (bounded by cacheEntries). */
    get size() { return kept.size; },
  };
}

export type NextHop = ReturnType<typeof createNextHop>;
