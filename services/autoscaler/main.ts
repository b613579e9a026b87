// Starts the autoscaler role: its own process, so it can be broken and recovered (lab 3.7)
// while the workers keep their last slots. It also serves the admin API when ADMIN_API is on.
// Chaos aimed at it acts on the process (CPU, memory, crash) and at its HTTP entry (runRole).
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { openControlStore } from '#platform/control/store.ts';
import type { RoleContext, RoleParts } from '#platform/role-runtime.ts';
import { requireToken } from '#services/admin/auth.ts';
import { autoscalerEvents } from './events.ts';
import { startAutoscalerLoop } from './loop.ts';
import { collectSignals } from './signals.ts';

export async function startAutoscaler(ctx: RoleContext): Promise<RoleParts> {
  const { config, logger, registry, nc } = ctx;
  // An admin API without a token would let anyone scale, replay or purge: refuse before anything.
  const adminToken = config.admin.enabled ? requireToken(config.admin.token) : undefined;
  const control = await openControlStore(nc);
  const signals = ctx.own('stop reading signals', collectSignals(nc, await jetstreamManager(nc), { heartbeatMs: config.workers.heartbeatMs }), (s) => s.stop());
  const events = autoscalerEvents({ registry, logger, js: jetstream(nc), instance: config.instanceId });
  ctx.own('stop deciding', startAutoscalerLoop({ config, control, signals, events, logger }), (loop) => loop.stop());
  if (adminToken) {
    const { startAdminApi } = await import('#services/admin/main.ts');
    await startAdminApi(ctx, adminToken);
  }
  const a = config.autoscaler;
  logger.info({ tick_ms: a.tickMs, up: a.upUtilization, down: a.downUtilization, cooldown_ms: a.cooldownMs, slots: a.slots }, 'autoscaler watching the pools');
  return {};
}
