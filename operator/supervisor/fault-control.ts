// Puts the supervisor's system faults together: the engine that stops and starts processes and
// its copy in the `tps_chaos` bucket. `tps chaos` reaches it through the control socket.
import type { Config } from '#platform/config.ts';
import { openChaosStore } from '#platform/chaos/store.ts';
import type { Logger } from '#platform/logger.ts';
import { connectNats, type NatsConnection } from '#platform/nats/connect.ts';
import { mirrorFaults } from './fault-mirror.ts';
import { systemFaults, type SystemFaultHost, type SystemFaults } from './system-faults.ts';

export type FaultControl = { faults: SystemFaults; close(): Promise<void> };

export type FaultControlOptions = {
  /** How the supervisor reaches NATS (the operator user when it started nats-server itself). */
  nats: Config['nats'];
  logger: Logger;
  host: SystemFaultHost;
};

export function startFaultControl(opts: FaultControlOptions): FaultControl {
  let nc: NatsConnection | undefined;
  const mirror = mirrorFaults(async () => {
    nc ??= await connectNats(opts.nats, { name: 'tps-supervisor-chaos', logger: opts.logger, connectTimeoutMs: 2_000 });
    return openChaosStore(nc);
  }, (line) => opts.host.say(line));
  const faults = systemFaults(opts.host, mirror);
  // Copies a previous run left in the bucket describe processes that are running again.
  void mirror.sync([], 'supervisor (start)');
  return {
    faults,
    async close() {
      faults.stop();
      await nc?.close().catch(() => undefined);
    },
  };
}
