// The caller's side of a canary (platform/canary.ts): each call to the next hop goes to the canary
// with the key's weight, else to the stable version, each through its own client and breaker (a
// broken canary opens its own breaker, never the stable one's). While a canary is declared, every
// call is counted and timed by track and version, which `tps canary status` and the dashboard
// compare. The caller is also the canary's judge (canary-judge.ts): when the canary's failed share
// or p99 over the key's window is worse than the stable version's by more than the key's limits,
// it stops sending to it at once and rolls it back (the key and an audit event), so a bad version
// is taken out within one window whoever watches.
import { ClientError } from '#platform/breaker.ts';
import type { CanaryService, CanaryValue } from '#platform/canary.ts';
import type { DownstreamClient, HopResult, WorkRequest } from '#platform/http/downstream.ts';
import type { ChainService } from '#platform/job-catalogue.ts';
import type { Logger } from '#platform/logger.ts';
import { counter, gauge, histogram, knownLabels, metrics, type MetricsRegistry } from '#platform/metrics.ts';
import { canaryJudge } from './canary-judge.ts';

export type CanaryRouteDeps = {
  caller: ChainService; target: CanaryService; stable: DownstreamClient; registry: MetricsRegistry; logger: Logger;
  /** The canary's own client (and breaker), to the key's URL. */
  makeClient(url: string): DownstreamClient;
  /** Records the rollback: the key (weight 0, state rolled-back) and its audit event. */
  rollBack(value: CanaryValue, reason: string): Promise<void>;
  random?: () => number;
  now?: () => number;
};

/** What the judge does with a canary that broke its limits: the caller sends it nothing from now. */
function rollingBack({ target, logger, rollBack }: CanaryRouteDeps) {
  return (value: CanaryValue, reason: string): void => {
    logger.warn({ canary: target, version: value.version, reason }, `rolling the ${target} canary ${value.version} back: ${reason}`);
    rollBack(value, reason).catch((err: unknown) => logger.error({ err, canary: target }, 'could not record the canary\'s rollback; this caller sends it nothing'));
  };
}

export function createCanaryRoute(deps: CanaryRouteDeps) {
  const { caller, target, logger } = deps;
  const random = deps.random ?? Math.random;
  let declared: CanaryValue | undefined;
  let canary: { url: string; client: DownstreamClient } | undefined;
  const judge = canaryJudge(rollingBack(deps), deps.now);
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
    if (outcome !== 'client_error' && declared.state === 'running') judge.observe(declared, track, outcome === 'success', ms);
  }

  return {
    /** A new value of the key (undefined: deleted). */
    apply(value: CanaryValue | undefined): void {
      // A canary started anew (another version, or again after its end) is judged afresh, through
      // a client and breaker of its own: none of the last one's calls, connections or open breaker.
      const anew = value?.version !== declared?.version || declared?.state !== 'running';
      judge.reset(anew || value?.state !== 'running');
      declared = value;
      if (value && value.state === 'running' && (canary?.url !== value.url || anew)) {
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
