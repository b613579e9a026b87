// Where `tps canary` and the lab engine find what a canary needs: natively the supervisor runs its
// process (its control socket); in compose TPS_TARGETS names the roles and the canary's container.
import type { NatsConnection } from '@nats-io/transport-node';
import { canaryName } from '#platform/canary.ts';
import type { Config } from '#platform/config.ts';
import type { ControlStore } from '#platform/control/store.ts';
import { stateDir } from '#platform/paths.ts';
import { nativeTargets, parseTargets } from '#operator/status/collect.ts';
import { canaryChannel } from '#operator/supervisor/canary-channel.ts';
import type { RolloutDeps } from './rollout.ts';

export function canarySources(config: Config, nc: NatsConnection, control: ControlStore): Omit<RolloutDeps, 'by'> {
  const compose = config.operator.targets;
  const targets = compose ? parseTargets(compose) : nativeTargets(config.stateDir);
  return {
    control, nc, targets,
    // A canary's process may take the role's readiness timeout to start, and a stopping one its drain.
    ...(compose ? {} : { processes: canaryChannel(stateDir(config.stateDir), 120_000) }),
    composeUrl: (service) => targets.find((t) => t.role === canaryName(service))?.url,
  };
}
