// Puts the supervisor's system faults together: the engine that stops and starts processes, its
// copy in the `tps_chaos` bucket, and the unix socket `tps chaos` reaches it through.
import type { Config } from '#platform/config.ts';
import { openChaosStore } from '#platform/chaos/store.ts';
import { maxSocketPath, supervisorSocket } from '#platform/chaos/supervisor-channel.ts';
import type { Logger } from '#platform/logger.ts';
import { connectNats, type NatsConnection } from '#platform/nats/connect.ts';
import { serveControlSocket, type ControlSocket } from './control-socket.ts';
import { mirrorFaults } from './fault-mirror.ts';
import { systemFaults, type SystemFaultHost, type SystemFaults } from './system-faults.ts';

export type FaultControl = { faults: SystemFaults; close(): Promise<void> };

export type FaultControlOptions = {
  config: Config;
  stateDir: string;
  /** How the supervisor reaches NATS (the operator user when it started nats-server itself). */
  nats: Config['nats'];
  logger: Logger;
  host: SystemFaultHost;
};

export async function startFaultControl(opts: FaultControlOptions): Promise<FaultControl> {
  let nc: NatsConnection | undefined;
  const mirror = mirrorFaults(async () => {
    nc ??= await connectNats(opts.nats, { name: 'tps-supervisor-chaos', logger: opts.logger, connectTimeoutMs: 2_000 });
    return openChaosStore(nc);
  }, (line) => opts.host.say(line));
  const faults = systemFaults(opts.host, mirror);
  // Copies a previous run left in the bucket describe processes that are running again.
  void mirror.sync([], 'supervisor (start)');

  const socketPath = supervisorSocket(opts.stateDir);
  let socket: ControlSocket | undefined;
  if (Buffer.byteLength(socketPath) > maxSocketPath) {
    opts.host.say(`System faults (nats_down, monitoring_down, autoscaler_down) unavailable: the control socket path ${socketPath} is longer than a unix socket allows; use a shorter TPS_STATE_DIR.`);
  } else {
    socket = await serveControlSocket(socketPath, faults);
  }
  return {
    faults,
    async close() {
      faults.stop();
      await socket?.close();
      await nc?.close().catch(() => undefined);
    },
  };
}
