// Starts one hop of the chain: its concurrency limit, and a breaker to the next hop with a timeout
// shorter than its caller's. Chaos aimed at the hop acts at its entry (buildChain); runRole
// (platform/role-runtime.ts) does the rest of the wiring from the role table.
import { disabledChaos } from '#platform/chaos/injector.ts';
import { openControlStore } from '#platform/control/store.ts';
import { createDownstreamClient, type DownstreamClient } from '#platform/http/downstream.ts';
import { followParameters } from '#platform/params/follow.ts';
import type { ChainService } from '#platform/job-catalogue.ts';
import type { RoleContext, RoleParts } from '#platform/role-runtime.ts';
import { buildChain } from './app.ts';
import { createLimiter } from './limiter.ts';
import { createNextHop, type NextHop, type NextHopSettings } from './next-hop.ts';
import { createCanaryRoute, type CanaryRoute } from './canary-route.ts';
import { jetstream } from '@nats-io/jetstream';
import { canaryName, canaryValue, type CanaryService } from '#platform/canary.ts';
import { controlKeys } from '#platform/control/keys.ts';
import { publishAuditEvent } from '#platform/nats/audit-events.ts';

/** The pool_limit fault's size while it is on this hop (a database pool shrunk by an incident). */
function poolLimit(chaos: RoleContext['chaos']): number | undefined {
  if (!chaos.armed()) return undefined;
  const fault = chaos.active().find((f) => f.fault === 'pool_limit');
  return fault ? Number(fault.params.size) : undefined;
}

/** Like a database tier, each hop further down has no more connections than the one above. */
const hopDefaults: Record<ChainService, { concurrency: number; queue: number; next?: 'service-b' | 'service-c' }> = {
  'service-a': { concurrency: 128, queue: 128, next: 'service-b' },
  'service-b': { concurrency: 64, queue: 64, next: 'service-c' },
  'service-c': { concurrency: 64, queue: 64 },
};

/** The next hop behind its cache and fallback, both following their live parameters. */
async function withCacheAndFallback(ctx: RoleContext, service: ChainService, target: 'service-b' | 'service-c', client: DownstreamClient): Promise<NextHop> {
  const settings: NextHopSettings = { cacheMs: ctx.config.chain.cacheMs[target], fallback: ctx.config.chain.fallback[target] };
  const stop = await followParameters(await openControlStore(ctx.nc), [
    { name: `cache.${target}`, startup: settings.cacheMs, apply: (v) => { settings.cacheMs = v; } },
    { name: `fallback.${target}`, startup: settings.fallback ? 1 : 0, apply: (v) => { settings.fallback = v === 1; } },
  ], { logger: ctx.logger, registry: ctx.registry });
  ctx.own('stop following the cache and fallback parameters', stop, (s) => s());
  return createNextHop(client, { caller: service, target, registry: ctx.registry, settings });
}

/** The next hop split with its canary when one is declared (canary-route.ts), following its key. */
async function withCanary(ctx: RoleContext, service: ChainService, target: CanaryService, stable: DownstreamClient, clientTo: (name: string, url: string) => DownstreamClient): Promise<CanaryRoute> {
  const store = await openControlStore(ctx.nc);
  const route = ctx.own('close the canary client', createCanaryRoute({
    caller: service, target, stable, registry: ctx.registry, logger: ctx.logger,
    makeClient: (url) => clientTo(canaryName(target), url),
    async rollBack(value, reason) {
      const by = `${service} (automatic rollback)`;
      await store.setCanary(target, { ...value, state: 'rolled-back', weight: 0, by, at: new Date().toISOString(), reason, auto: true });
      await publishAuditEvent(jetstream(ctx.nc), 'canary.rolled-back', by, { service: target, version: value.version, stable: value.stable, reason, auto: true });
    },
  }), (r) => r.close());
  const stop = await store.watch(controlKeys.canary(target), canaryValue, (v) => route.apply(v), (text) => ctx.logger.warn({ key: controlKeys.canary(target), text }, 'ignored an invalid canary key'));
  ctx.own('stop following the canary', stop, (s) => s());
  return route;
}

export async function startChain(ctx: RoleContext, service: ChainService): Promise<RoleParts> {
  const { config, logger, registry, nc } = ctx;
  const defaults = hopDefaults[service];
  const concurrency = config.chain.concurrency ?? defaults.concurrency;
  const clientTo = (target: string, url: string) => createDownstreamClient({
    caller: service,
    target,
    url,
    policy: { ...config.breakers, timeoutMs: config.chain.timeouts[defaults.next ?? 'service-b'], capacity: concurrency },
    countPropagated: false,
    // Faults aimed at a service act once, at its entry; its outgoing calls stay untouched.
    chaos: disabledChaos(),
    registry,
    logger,
  });
  const next = defaults.next ? ctx.own('close the next-hop client', clientTo(defaults.next, config.chain.urls[defaults.next]), (client) => client.close()) : undefined;
  const routed = next && defaults.next ? await withCanary(ctx, service, defaults.next, next, clientTo) : undefined;
  const nextHop = routed && defaults.next ? await withCacheAndFallback(ctx, service, defaults.next, routed) : undefined;
  const app = await buildChain({
    service,
    logger,
    registry,
    limiter: createLimiter(concurrency, config.chain.queue ?? defaults.queue, () => poolLimit(ctx.chaos) ?? concurrency),
    ...(nextHop ? { next: nextHop } : {}),
    workScale: config.chain.workScale,
    chaos: ctx.chaos,
    broker: ctx.broker,
    timeouts: config.http,
  });
  // An operator's `tps breaker open|close` reaches this hop's breaker on every replica.
  return { app, breakers: next ? [next.breaker] : [] };
}
