// System faults carried out by the native supervisor: a fault stops the processes it names (with
// the supervisor's pause(), so they are not restarted), and they start again when it is cleared,
// at reset, or when it expires; every fault has an expiry, so nothing stays stopped forever.
// Changes are applied one at a time, in order.
import {
  activeFaultFrom, ChaosInputError, faultKey, isSystemFault, validateFault, type ActiveFault, type FaultName,
} from '#platform/chaos/catalogue.ts';
import { SystemFaultRefused } from './channel.ts';
import { ExpiringFaults } from './expiring-faults.ts';
import type { FaultMirror } from './fault-mirror.ts';

/** What each system fault stops, among the processes this supervisor manages. */
export const stoppedBy: Readonly<Record<string, readonly string[]>> = {
  nats_down: ['nats'],
  monitoring_down: ['prometheus', 'grafana'],
  autoscaler_down: ['autoscaler'],
};

export type SystemFaultHost = {
  processNames(): string[];
  nats: { url: string; managed: boolean };
  pause(name: string): Promise<boolean>;
  resume(name: string): Promise<boolean>;
  /** Called with the active system faults after every change (the state file records them). */
  changed(faults: ActiveFault[]): void;
  say(line: string): void;
};

export type SystemFaultRequest = { target: string; fault: string; params?: Record<string, unknown>; durationMs?: number };

export type SystemFaults = {
  set(request: SystemFaultRequest, by: string): Promise<ActiveFault>;
  clear(target: string, fault: string | undefined, by: string): Promise<ActiveFault[]>;
  list(): ActiveFault[];
  reset(by: string): Promise<ActiveFault[]>;
  stop(): void;
};

export function systemFaults(host: SystemFaultHost, mirror: FaultMirror): SystemFaults {
  const faults = new ExpiringFaults();
  const stopped = new Set<string>();
  const serial = serialQueue();

  /** Records the change, stops and starts processes to match, and copies the faults to tps_chaos. */
  async function changed(by: string, { copyFirst = false } = {}): Promise<void> {
    host.changed(faults.active());
    // A new fault is copied while NATS is still up (once nats-server is stopped nobody could read
    // the copy); a cleared one after its processes run again (NATS may be one of them).
    if (copyFirst && !stopped.has('nats')) await mirror.sync(faults.active(), by);
    await reconcile(host, stopped, faults.active());
    if (!copyFirst || stopped.has('nats')) void mirror.sync(faults.active(), by);
  }

  const expire = (key: string) => serial(async () => {
    const f = faults.remove(key);
    if (!f) return;
    host.say(`chaos: ${f.fault} on ${f.target} expired`);
    await changed('supervisor (expiry)');
  });

  return {
    set: (request, by) => serial(async () => {
      const valid = validSystemFault(host, request);
      const fault = activeFaultFrom(valid, by);
      faults.put(fault, valid.durationMs, (key) => void expire(key));
      host.say(`chaos: ${fault.fault} on ${fault.target} until ${fault.expiresAt} (by ${by})`);
      await changed(by, { copyFirst: true });
      return fault;
    }),
    clear: (target, fault, by) => serial(async () => {
      const cleared = faults.active().filter((f) => f.target === target && (!fault || f.fault === fault));
      for (const f of cleared) faults.remove(faultKey(f.target, f.fault));
      for (const f of cleared) host.say(`chaos: ${f.fault} on ${f.target} cleared (by ${by})`);
      await changed(by);
      return cleared;
    }),
    list: () => faults.active(),
    reset: (by) => serial(async () => {
      const cleared = faults.active();
      faults.removeAll();
      if (cleared.length > 0) host.say(`chaos: reset by ${by}`);
      await changed(by);
      return cleared;
    }),
    stop() {
      faults.removeAll();
      mirror.close();
    },
  };
}

/** Runs the work handed to it one piece at a time, in order; a failed piece does not stop the next. */
function serialQueue(): <T>(work: () => Promise<T>) => Promise<T> {
  let queue: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work);
    queue = next.catch(() => undefined);
    return next;
  };
}

/** A valid system fault this supervisor can carry out, or the error that says why not. */
function validSystemFault(host: SystemFaultHost, request: SystemFaultRequest): ReturnType<typeof validateFault> {
  const valid = validateFault(request);
  if (!isSystemFault(valid.fault)) throw new ChaosInputError(`${valid.fault} is a process fault: it goes through the tps_chaos bucket, not the supervisor`);
  const refused = refusal(host, valid.fault);
  if (refused) throw new SystemFaultRefused(refused);
  return valid;
}

/** Why this supervisor cannot carry out a fault: none of what it stops runs under it. */
function refusal(host: SystemFaultHost, fault: FaultName): string | undefined {
  const running = host.processNames();
  if ((stoppedBy[fault] ?? []).some((name) => running.includes(name))) return undefined;
  if (fault === 'nats_down') {
    return `nats_down refused: this supervisor did not start nats-server; it uses the NATS already answering at ${host.nats.url}, and it never stops a server it did not start. ` +
      'Stop that server yourself to see the outage, or let `tps up` start its own (NATS_URL pointing at a free local port).';
  }
  if (fault === 'monitoring_down') return 'monitoring_down refused: neither Prometheus nor Grafana runs under this supervisor (not installed, or TPS_MONITORING=off), so there is nothing to stop.';
  return `${fault} refused: ${stoppedBy[fault]?.join(' and ')} does not run under this supervisor.`;
}

/** Stops what the active faults name, and starts again what none names any more. */
async function reconcile(host: SystemFaultHost, stopped: Set<string>, active: ActiveFault[]): Promise<void> {
  const wanted = new Set(active.flatMap((f) => stoppedBy[f.fault] ?? []).filter((n) => host.processNames().includes(n)));
  for (const name of wanted) {
    if (stopped.has(name)) continue;
    if (await host.pause(name)) stopped.add(name);
  }
  for (const name of [...stopped]) {
    if (wanted.has(name)) continue;
    stopped.delete(name);
    await host.resume(name);
  }
}
