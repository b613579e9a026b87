// Starts the autoscaler role: its own process, so it can be broken and recovered (lab 3.7)
// while the workers keep their last slots. It also serves the admin API when ADMIN_API is on.
// Chaos aimed at it acts on the process (CPU, memory, crash) and at its HTTP entry (runRole).
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Config } from '#platform/config.ts';
import { openControlStore } from '#platform/control/store.ts';
import { followParameters, type FollowedParameter } from '#platform/params/follow.ts';
import type { RoleContext, RoleParts } from '#platform/role-runtime.ts';
import { requireToken } from '#services/admin/auth.ts';
import { autoscalerEvents } from './events.ts';
import { startAutoscalerLoop } from './loop.ts';
import { collectSignals } from './signals.ts';

type Tuned = { -readonly [K in keyof Config['autoscaler']]: Config['autoscaler'][K] };

/** The autoscaler.* live parameters and where each lands in the policy (utilisation as a fraction). */
function autoscalerParameters(tuned: Tuned): FollowedParameter[] {
  const percent = (field: 'upUtilization' | 'downUtilization') => ({ startup: Math.round(tuned[field] * 100), apply: (v: number) => { tuned[field] = v / 100; } });
  const ms = (field: 'upAfterMs' | 'downAfterMs' | 'cooldownMs') => ({ startup: tuned[field], apply: (v: number) => { tuned[field] = v; } });
  return [
    { name: 'autoscaler.up-utilization', ...percent('upUtilization') },
    { name: 'autoscaler.down-utilization', ...percent('downUtilization') },
    { name: 'autoscaler.up-after-ms', ...ms('upAfterMs') },
    { name: 'autoscaler.down-after-ms', ...ms('downAfterMs') },
    { name: 'autoscaler.cooldown-ms', ...ms('cooldownMs') },
  ];
}

export async function startAutoscaler(ctx: RoleContext): Promise<RoleParts> {
  const { config, logger, registry, nc } = ctx;
  // An admin API without a token would let anyone scale, replay or purge: refuse before anything.
  const adminToken = config.admin.enabled ? requireToken(config.admin.token) : undefined;
  const control = await openControlStore(nc);
  const signals = ctx.own('stop reading signals', collectSignals(nc, await jetstreamManager(nc), { heartbeatMs: config.workers.heartbeatMs }), (s) => s.stop());
  const events = autoscalerEvents({ registry, logger, js: jetstream(nc), instance: config.instanceId });
  // The loop reads its policy from this copy at every tick: live parameters change it in place.
  const tuned = { ...config.autoscaler };
  ctx.own('stop following parameters', await followParameters(control, autoscalerParameters(tuned), { logger, registry }), (stop) => stop());
  ctx.own('stop deciding', startAutoscalerLoop({ config: { ...config, autoscaler: tuned }, control, signals, events, logger }), (loop) => loop.stop());
  if (adminToken) {
    const { startAdminApi } = await import('#services/admin/main.ts');
    await startAdminApi(ctx, adminToken);
  }
  const a = config.autoscaler;
  logger.info({ tick_ms: a.tickMs, up: a.upUtilization, down: a.downUtilization, cooldown_ms: a.cooldownMs, slots: a.slots }, 'autoscaler watching the pools');
  return {};
}
