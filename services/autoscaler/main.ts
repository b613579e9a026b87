// Starts the autoscaler role: its own process, so it can be broken and recovered (lab 3.7)
// while the workers keep their last slots. It also serves the admin API when ADMIN_API is on.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { startChaos } from '#platform/chaos/injector.ts';
import { openChaosStore } from '#platform/chaos/store.ts';
import { openControlStore } from '#platform/control/store.ts';
import { createHttpApp } from '#platform/http/server.ts';
import { brokerState } from '#platform/nats/connect.ts';
import { verifyTopology } from '#platform/nats/provision.ts';
import { buckets, streams } from '#platform/nats/subjects.ts';
import { declareTopology } from '#platform/nats/topology.ts';
import { defaultPorts } from '#platform/ports.ts';
import { poolDefinitions } from '#platform/pools.ts';
import { listen, type RoleContext } from '#platform/role-runtime.ts';
import { requireToken } from '#services/admin/auth.ts';
import { autoscalerEvents } from './events.ts';
import { startAutoscalerLoop } from './loop.ts';
import { collectSignals } from './signals.ts';

export async function startAutoscaler(ctx: RoleContext): Promise<number> {
  const { config, logger, registry, nc, lifecycle } = ctx;
  // An admin API without a token would let anyone scale, replay or purge: refuse before anything.
  const adminToken = config.admin.enabled ? requireToken(config.admin.token) : undefined;
  const jsm = await jetstreamManager(nc);
  await verifyTopology(jsm, declareTopology(config), {
    streams: [poolDefinitions.fast.stream, poolDefinitions.slow.stream, streams.events, `KV_${buckets.control}`],
    consumers: [poolDefinitions.fast.consumer, poolDefinitions.slow.consumer],
  });
  const control = await openControlStore(nc);
  const signals = collectSignals(nc, jsm, { heartbeatMs: config.workers.heartbeatMs });
  const events = autoscalerEvents({ registry, logger, js: jetstream(nc), instance: config.instanceId });
  const loop = startAutoscalerLoop({ config, control, signals, events, logger });
  lifecycle.onShutdown('stop deciding', async () => { await loop.stop(); signals.stop(); });

  if (adminToken) {
    const { startAdminApi } = await import('#services/admin/main.ts');
    await startAdminApi(ctx, adminToken);
  }
  const broker = brokerState(nc);
  // Process faults aimed at the autoscaler: CPU, memory and crash act on the process; latency,
  // errors and hang at its HTTP entry.
  const chaos = await startChaos('autoscaler', await openChaosStore(nc), { registry, logger });
  lifecycle.onShutdown('stop chaos', () => chaos.stop());
  const app = createHttpApp({ service: 'autoscaler', logger, registry, chaos, timeouts: config.http, readiness: () => ({ nats: broker.connected() ? true : 'not connected to NATS' }) });
  const port = await listen(app, ctx, defaultPorts.autoscaler);
  const a = config.autoscaler;
  logger.info({ tick_ms: a.tickMs, up: a.upUtilization, down: a.downUtilization, cooldown_ms: a.cooldownMs, slots: a.slots }, 'autoscaler watching the pools');
  return port;
}
