// Where `tps canary` and the lab engine find what a canary needs: natively the supervisor runs its
// process (its control socket); in compose TPS_TARGETS names the roles, and a canary is the
// `<service>-canary` container of the `canary` profile, on its service's port.
import type { NatsConnection } from '@nats-io/transport-node';
import { canaryName, canaryServices } from '#platform/canary.ts';
import type { Config } from '#platform/config.ts';
import type { ControlStore } from '#platform/control/store.ts';
import { stateDir } from '#platform/paths.ts';
import { nativeTargets, parseTargets } from '#operator/status/collect.ts';
import type { Target } from '#operator/status/replica-targets.ts';
import { canaryChannel } from '#operator/supervisor/canary-channel.ts';
import type { RolloutDeps } from './rollout.ts';

/** In compose a canary is the container `<service>-canary` on its service's port (docker-compose.yml). */
function composeCanaries(targets: readonly Target[]): Target[] {
  return canaryServices.flatMap((service) => {
    const stable = targets.find((t) => t.role === service);
    if (!stable || targets.some((t) => t.role === canaryName(service))) return [];
    const url = new URL(stable.url);
    url.hostname = canaryName(service);
    return [{ role: canaryName(service), url: url.origin }];
  });
}

export function canarySources(config: Config, nc: NatsConnection, control: ControlStore): Omit<RolloutDeps, 'by'> {
  const compose = config.operator.targets;
  const targets = compose ? parseTargets(compose) : nativeTargets(config.stateDir);
  const all = compose ? [...targets, ...composeCanaries(targets)] : targets;
  return {
    control, nc, targets: all,
    // A canary's process may take the role's readiness timeout to start, and a stopping one its drain.
    ...(compose ? {} : { processes: canaryChannel(stateDir(config.stateDir), 120_000) }),
    composeUrl: (service) => all.find((t) => t.role === canaryName(service))?.url,
  };
}
