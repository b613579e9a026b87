// A ChaosControl over the ChaosStore, for process faults only: what `tps chaos run` uses until the
// control plane's openChaosControl() (platform/chaos/control.ts) is wired in, which also carries
// out system faults (nats_down, monitoring_down, autoscaler_down) through the supervisor.
import { ChaosInputError, faultCatalogue, validateFault, type FaultName } from '#platform/chaos/catalogue.ts';
import type { ChaosControl } from '#platform/chaos/control.ts';
import { openChaosStore } from '#platform/chaos/store.ts';
import type { NatsConnection } from '@nats-io/transport-node';

export async function openStoreControl(nc: NatsConnection): Promise<ChaosControl> {
  const store = await openChaosStore(nc);
  return {
    async set(request, by) {
      validateFault(request);
      if (faultCatalogue[request.fault as FaultName].kind === 'system') {
        throw new ChaosInputError(`${request.fault} is a system fault; this build of \`tps chaos run\` sets process faults only`);
      }
      return store.set(request, by);
    },
    clear: (target, fault, by) => store.clear(target, fault, by),
    list: () => store.list(),
    reset: (by) => store.reset(by),
    close: async () => {},
  };
}
