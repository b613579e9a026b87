// The one way operators and scenarios change faults: process faults go to the `tps_chaos` bucket,
// system faults (nats_down, monitoring_down, autoscaler_down) to whoever runs those systems (the
// native supervisor, or docker compose). Callers never need to know which is which.
import type { Config } from '#platform/config.ts';
import type { Logger } from '#platform/logger.ts';
import { connectNats, type NatsConnection } from '#platform/nats/connect.ts';
import { stateDir } from '#platform/paths.ts';
import {
  ChaosInputError, chaosTargets, faultCatalogue, faultNames, isSystemFault, processTargets, systemFaultTargets, validateClear, validateFault,
  type ActiveFault, type ChaosTarget, type FaultName,
} from '#platform/chaos/catalogue.ts';
import { openChaosStore, type ChaosStore } from '#platform/chaos/store.ts';
import {
  supervisorChannel, supervisorSocket, SupervisorNotRunning, SystemFaultRefused, type SupervisorChannel,
} from '#operator/supervisor/channel.ts';

export type ChaosRequest = { target: string; fault: string; params?: Record<string, unknown>; durationMs?: number };

export type ChaosControl = {
  /** Validates (ChaosInputError on bad input) and starts a fault; it expires by itself. */
  set(request: ChaosRequest, by: string): Promise<ActiveFault>;
  /** Clears one fault, or every fault of a target; returns what was cleared. */
  clear(target: string, fault?: string, by?: string): Promise<ActiveFault[]>;
  list(): Promise<ActiveFault[]>;
  /** Clears every fault and restarts whatever a system fault stopped. */
  reset(by: string): Promise<ActiveFault[]>;
  close(): Promise<void>;
};

export type ChaosControlOptions = {
  /** NATS settings (process faults) and the state folder (the supervisor's socket). */
  config: Pick<Config, 'nats' | 'stateDir'>;
  logger: Logger;
  /** A connection to reuse; without one, a connection is opened on first need and closed by close(). */
  nc?: NatsConnection;
  /** Told when part of the picture is missing (e.g. process faults unknown while NATS is down). */
  warn?: (message: string) => void;
};

/** Raised for a system fault when no native supervisor runs here (compose, or TPS Lab not started). */
export class NotRunningNatively extends SystemFaultRefused {
  constructor(fault: string, socket: string) {
    super(`TPS Lab is not running natively here (no supervisor answers at ${socket}), so ${fault} cannot be carried out. ` +
      'Start it with `make up`; in compose mode use `make chaos MODE=compose TARGET=...` (docker compose stop/start).');
    this.name = 'NotRunningNatively';
  }
}

/** NATS answers but the chaos bucket is not there (JetStream off, or not provisioned). */
export class ChaosStoreUnavailable extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ChaosStoreUnavailable';
  }
}

const targetsWithSystemFaults = new Set(Object.values(systemFaultTargets).flat());

export function openChaosControl(opts: ChaosControlOptions): ChaosControl {
  const dir = stateDir(opts.config.stateDir);
  const supervisor = supervisorChannel(dir);
  const socket = supervisorSocket(dir);
  const stores = lazyChaosStore(opts);
  const viaSupervisor = <T>(what: string, call: () => Promise<T>, whenNotRunning?: T) => callSupervisor(socket, what, call, whenNotRunning);

  return {
    async set(request, by) {
      const valid = validateFault(request);
      if (!isSystemFault(valid.fault)) return (await stores.open()).set(request, by);
      return viaSupervisor(valid.fault, () => supervisor.set({ ...request, by }));
    },
    async clear(target, fault, by = 'unknown') {
      validateClear(target, fault);
      const cleared: ActiveFault[] = [];
      const system = fault ? isSystemFault(fault as FaultName) : targetsWithSystemFaults.has(target as ChaosTarget);
      const process = fault ? !system : processTargets.includes(target as ChaosTarget);
      if (system) cleared.push(...await viaSupervisor(fault ?? 'system faults', () => supervisor.clear({ target, ...(fault ? { fault } : {}), by }), []));
      if (process) cleared.push(...(await (await stores.open()).clear(target, fault, by)).filter((f) => !isSystemFault(f.fault)));
      return cleared;
    },
    list: () => listFaults(supervisor, stores.open, opts),
    async reset(by) {
      // The supervisor first: it starts NATS again when nats_down stopped it.
      const system = await viaSupervisor('reset', () => supervisor.reset(by), []);
      const stored = (await (await stores.open()).reset(by)).filter((f) => !isSystemFault(f.fault));
      return [...stored, ...system];
    },
    close: () => stores.close(),
  };
}

/** The chaos store, opened on first need (on the caller's connection, or one of its own that
 * close() drains); a failed open is forgotten, so the next call tries again. */
function lazyChaosStore(opts: ChaosControlOptions): { open(): Promise<ChaosStore>; close(): Promise<void> } {
  let ownNc: Promise<NatsConnection> | undefined;
  let store: Promise<ChaosStore> | undefined;
  const open = (): Promise<ChaosStore> => {
    if (!store) {
      const nc = opts.nc ? Promise.resolve(opts.nc) : (ownNc = connectNats(opts.config.nats, { name: 'tps-chaos', logger: opts.logger }));
      store = nc.then((c) => openChaosStore(c).catch((err: unknown) => {
        throw new ChaosStoreUnavailable(`the tps_chaos bucket cannot be opened at ${opts.config.nats.servers.join(', ')} (${(err as Error).message}); ` +
          'is TPS Lab running there (`make up`), and provisioned (`tps provision`)?', { cause: err });
      }));
      store.catch(() => { store = undefined; });
    }
    return store;
  };
  const close = async (): Promise<void> => {
    if (ownNc) await (await ownNc.catch(() => undefined))?.drain().catch(() => undefined);
  };
  return { open, close };
}

/** Runs a call to the supervisor; when none runs, answers `whenNotRunning`, or refuses without it. */
async function callSupervisor<T>(socket: string, what: string, call: () => Promise<T>, whenNotRunning?: T): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof SupervisorNotRunning)) throw err;
    if (whenNotRunning === undefined) throw new NotRunningNatively(what, socket);
    return whenNotRunning;
  }
}

/** Process faults from the store and system faults from the supervisor; while NATS is down (or
 * stopped by nats_down), only the system faults, with a warning that the rest are unknown. */
async function listFaults(supervisor: SupervisorChannel, chaosStore: () => Promise<ChaosStore>, opts: ChaosControlOptions): Promise<ActiveFault[]> {
  const system = await supervisorFaults(supervisor);
  const natsDown = system.filter((f) => f.fault === 'nats_down');
  if (natsDown.length > 0 && !opts.nc) {
    opts.warn?.('process faults not shown: nats_down has stopped NATS, where they are kept');
    return system;
  }
  try {
    const stored = (await (await chaosStore()).list()).filter((f) => !isSystemFault(f.fault));
    return [...stored, ...system];
  } catch (err) {
    if (system.length === 0) throw err;
    opts.warn?.(`process faults unknown: NATS does not answer (${system.map((f) => f.fault).join(', ')} in force)`);
    return system;
  }
}

/** System faults from the supervisor; none when it does not run (nothing can be stopped then). */
const supervisorFaults = (supervisor: SupervisorChannel) => supervisor.list().catch((err: unknown) => {
  if (err instanceof SupervisorNotRunning) return [];
  throw err;
});

/** A clear names a known target, and a fault that can be aimed at it. */
