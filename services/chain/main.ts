// Starts one hop of the chain: chaos at its boundaries, its concurrency limit, and a breaker
// to the next hop with a timeout shorter than its caller's.
import { openChaosStore } from '#platform/chaos/store.ts';
import { disabledChaos, startChaos } from '#platform/chaos/injector.ts';
import { obeyControl } from '#platform/control/obey.ts';
import { openControlStore } from '#platform/control/store.ts';
import { createDownstreamClient } from '#platform/http/downstream.ts';
import type { ChainService } from '#platform/job-catalogue.ts';
import { brokerState } from '#platform/nats/connect.ts';
import { defaultPorts } from '#platform/ports.ts';
import { listen, type RoleContext } from '#platform/role-runtime.ts';
import { buildChain } from './app.ts';
import { createLimiter } from './limiter.ts';

/** Like a database tier, each hop further down has fewer connections. */
const hopDefaults: Record<ChainService, { concurrency: number; queue: number; next?: 'service-b' | 'service-c' }> = {
  'service-a': { concurrency: 128, queue: 128, next: 'service-b' },
  'service-b': { concurrency: 64, queue: 64, next: 'service-c' },
  'service-c': { concurrency: 16, queue: 32 },
};

export async function startChain(ctx: RoleContext, service: ChainService): Promise<number> {
  const { config, logger, registry, nc, lifecycle } = ctx;
  const defaults = hopDefaults[service];
  const concurrency = config.chain.concurrency ?? defaults.concurrency;
  const chaos = await startChaos(service, await openChaosStore(nc), { registry, logger });
  const next = defaults.next
    ? createDownstreamClient({
        caller: service,
        target: defaults.next,
        url: config.chain.urls[defaults.next],
        policy: { ...config.breakers, timeoutMs: config.chain.timeouts[defaults.next], capacity: concurrency },
        countPropagated: false,
        // Faults aimed at a service act once, at its entry; its outgoing calls stay untouched.
        chaos: disabledChaos(),
        registry,
        logger,
      })
    : undefined;
  const app = await buildChain({
    service,
    logger,
    registry,
    limiter: createLimiter(concurrency, config.chain.queue ?? defaults.queue),
    ...(next ? { next } : {}),
    workScale: config.chain.workScale,
    chaos,
    broker: brokerState(nc),
    timeouts: config.http,
  });
  // An operator's `tps breaker open|close` reaches this hop's breaker on every replica.
  const stopControl = await obeyControl(nc, await openControlStore(nc), {
    instance: config.instanceId, role: service, logger, breakers: next ? [next.breaker] : [],
  });
  const port = await listen(app, ctx, defaultPorts[service]);
  lifecycle.onShutdown('stop obeying control', () => stopControl());
  lifecycle.onShutdown('close the next-hop client', () => next?.close());
  lifecycle.onShutdown('stop chaos', () => chaos.stop());
  return port;
}
