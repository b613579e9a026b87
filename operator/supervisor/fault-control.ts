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
  // The connection being made, kept so that close() also ends one still connecting: a stop during
  // the start (Ctrl-C right after the roles are ready) otherwise left it open, and once nats-server
  // had stopped the supervisor kept reconnecting instead of exiting.
  let connecting: Promise<NatsConnection> | undefined;
  let closed = false;
  const mirror = mirrorFaults(async () => {
    if (closed) throw new Error('the supervisor is stopping');
    connecting ??= connectNats(opts.nats, { name: 'tps-supervisor-chaos', logger: opts.logger, connectTimeoutMs: 2_000 });
    // A connection that failed is made again at the next attempt.
    const nc = await connecting.catch((err: unknown) => { connecting = undefined; throw err; });
    return openChaosStore(nc);
  }, (line) => opts.host.say(line));
  const faults = systemFaults(opts.host, mirror);
  // Copies a previous run left in the bucket describe processes that are running again.
  void mirror.sync([], 'supervisor (start)');
  return {
    faults,
    async close() {
      closed = true;
      faults.stop();
      const nc = await connecting?.catch(() => undefined);
      await nc?.close().catch(() => undefined);
    },
  };
}
