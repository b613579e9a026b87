// The caller's side of a canary (platform/canary.ts): each call to the next hop goes to the canary
// with the key's weight, else to the stable version, each through its own client and breaker (a
// broken canary opens its own breaker, never the stable one's). While a canary is declared, every
// call is counted and timed by track and version, which `tps canary status` and the dashboard
// compare. The caller is also the canary's judge: when the canary's failed share or p99 over the
// key's window breaks the key's limits, it stops sending to it at once and rolls it back (the key
// and an audit event), so a bad version is taken out within one window whoever watches.
import { ClientError } from '#platform/breaker.ts';
import type { CanaryService, CanaryValue } from '#platform/canary.ts';
import type { DownstreamClient, HopResult, WorkRequest } from '#platform/http/downstream.ts';
import type { ChainService } from '#platform/job-catalogue.ts';
import type { Logger } from '#platform/logger.ts';
import { counter, gauge, histogram, knownLabels, metrics, type MetricsRegistry } from '#platform/metrics.ts';

export type CanaryRouteDeps = {
  caller: ChainService; target: CanaryService; stable: DownstreamClient; registry: MetricsRegistry; logger: Logger;
  /** The canary's own client (and breaker), to the key's URL. */
  makeClient(url: string): DownstreamClient;
  /** Records the rollback: the key (weight 0, state rolled-back) and its audit event. */
  rollBack(value: CanaryValue, reason: string): Promise<void>;
  random?: () => number;
  now?: () => number;
};

type Call = { at: number; ok: boolean; ms: number };

/** The `q` quantile of the values (nearest rank). */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
}

/** Why the canary's calls in the window break its limits, or undefined. */
export function verdict(window: readonly Call[], limits: Pick<CanaryValue, 'maxErrorPercent' | 'maxP99Ms' | 'minCalls'>): string | undefined {
  if (window.length < limits.minCalls) return undefined;
  const errorPercent = (window.filter((c) => !c.ok).length * 100) / window.length;
  if (errorPercent > limits.maxErrorPercent) return `its error rate was ${errorPercent.toFixed(1)} % over its last ${window.length} calls (the limit: ${limits.maxErrorPercent} %)`;
  const p99 = quantile(window.map((c) => c.ms), 0.99);
  if (p99 > limits.maxP99Ms) return `its p99 was ${Math.round(p99)} ms over its last ${window.length} calls (the limit: ${limits.maxP99Ms} ms)`;
  return undefined;
}

/** The canary's calls over the key's window, and whether they broke its limits (once per key value). */
function canaryJudge(deps: CanaryRouteDeps) {
  const now = deps.now ?? Date.now;
  let window: Call[] = [];
  const judge = {
    judged: false,
    reset(forget: boolean): void {
      if (forget) window = [];
      judge.judged = false;
    },
    observe(value: CanaryValue, ok: boolean, ms: number): void {
      window.push({ at: now(), ok, ms });
      const from = now() - value.windowMs;
      window = window.filter((c) => c.at >= from);
      const reason = verdict(window, value);
      if (!reason || judge.judged) return;
      judge.judged = true;
      deps.logger.warn({ canary: deps.target, version: value.version, reason }, `rolling the ${deps.target} canary ${value.version} back: ${reason}`);
      deps.rollBack(value, reason).catch((err: unknown) => deps.logger.error({ err, canary: deps.target }, 'could not record the canary\'s rollback; this caller sends it nothing'));
    },
  };
  return judge;
}

export function createCanaryRoute(deps: CanaryRouteDeps) {
  const { caller, target, logger } = deps;
  const random = deps.random ?? Math.random;
  let declared: CanaryValue | undefined;
  let canary: { url: string; client: DownstreamClient } | undefined;
  const judge = canaryJudge(deps);
  const calls = counter(deps.registry, metrics.canaryCalls);
  const duration = histogram(deps.registry, metrics.canaryCallDuration);
  const weight = () => (declared?.state === 'running' && !judge.judged ? declared.weight : 0);
  gauge(deps.registry, metrics.canaryWeight, (g) => {
    g.reset();
    if (declared) g.set({ caller, target, version: declared.version }, weight());
  });

  function record(track: 'stable' | 'canary', outcome: (typeof knownLabels.canaryOutcome)[number], ms: number): void {
    if (!declared) return;
    const version = track === 'canary' ? declared.version : declared.stable;
    calls.inc({ caller, target, track, version, outcome });
    duration.observe({ caller, target, track, version }, ms / 1000);
    if (track === 'canary' && outcome !== 'client_error' && declared.state === 'running') judge.observe(declared, outcome === 'success', ms);
  }

  return {
    /** A new value of the key (undefined: deleted). */
    apply(value: CanaryValue | undefined): void {
      judge.reset(value?.version !== declared?.version || value?.state !== 'running');
      declared = value;
      if (value && value.state === 'running' && canary?.url !== value.url) {
        const old = canary;
        canary = { url: value.url, client: deps.makeClient(value.url) };
        // Calls in flight on the old client finish first.
        if (old) setTimeout(() => { void old.client.close(); }, 30_000).unref();
      }
    },
    async call(request: WorkRequest): Promise<HopResult> {
      const share = weight();
      const track = canary && share > 0 && random() * 100 < share ? 'canary' : 'stable';
      const client = track === 'canary' && canary ? canary.client : deps.stable;
      const started = performance.now();
      try {
        const result = await client.call(request);
        record(track, 'success', performance.now() - started);
        return result;
      } catch (err) {
        record(track, err instanceof ClientError ? 'client_error' : 'failure', performance.now() - started);
        throw err;
      }
    },
    /** The stable version's breaker: the one `tps breaker` and the fallback count on. */
    breaker: deps.stable.breaker,
    async close(): Promise<void> {
      await canary?.client.close();
    },
    get weight(): number { return weight(); },
  };
}

export type CanaryRoute = ReturnType<typeof createCanaryRoute>;
