// Carries out the process faults aimed at this process, at its boundaries only: HTTP handler
// entry (inbound), calls it makes (outbound), and process-wide effects (CPU, memory, crash).
// Business code never branches on chaos.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.ts';
import { gauge, metrics, type MetricsRegistry } from '../metrics.ts';
import { isSystemFault, type ChaosTarget, type FaultName, type FaultParams } from './catalogue.ts';
import { isActive, type ChaosStore } from './store.ts';
import type { ActiveFault } from './catalogue.ts';

export class InjectedFault extends Error {
  readonly status: number;
  readonly target: string;
  constructor(target: string, status: number) {
    super(`chaos: ${target} injected a ${status} error`);
    this.name = 'InjectedFault';
    this.status = status;
    this.target = target;
  }
}

export type Chaos = {
  /** True while any fault is aimed at this process (lets hot paths skip the async check). */
  armed(): boolean;
  /** At the entry of a request handler: may delay, hang, or throw InjectedFault. */
  inbound(bodyBytes?: number, signal?: AbortSignal): Promise<void>;
  /** Before a call to another service or a publish to NATS: may delay, hang, or throw InjectedFault. */
  outbound(signal?: AbortSignal, bodyBytes?: number): Promise<void>;
  active(): ActiveFault[];
  stop(): void;
};

const noChaos: Chaos = { armed: () => false, inbound: async () => {}, outbound: async () => {}, active: () => [], stop: () => {} };
export const disabledChaos = (): Chaos => noChaos;

export type ChaosDeps = {
  registry: MetricsRegistry;
  logger: Logger;
  /** Also export the gauge of the system faults (nats_down, ...), which no process of theirs can:
   * exactly one role does (the ingress), so `sum(tps_chaos_fault_active)` counts each fault once. */
  reportSystemFaults?: boolean;
};

export async function startChaos(target: ChaosTarget, store: ChaosStore, deps: ChaosDeps): Promise<Chaos> {
  const startedAt = Date.now();
  const activeGauge = gauge(deps.registry, metrics.chaosFaultActive);
  let faults = new Map<FaultName, ActiveFault>();
  let hangRelease: (() => void) | undefined;
  let hangEnded = Promise.resolve();
  const leaked: Buffer[] = [];
  let cpuTimer: NodeJS.Timeout | undefined;
  let leakTimer: NodeJS.Timeout | undefined;

  const get = <F extends FaultName>(name: F): FaultParams<F> | undefined => {
    const f = faults.get(name);
    return f && isActive(f) ? (f.params as FaultParams<F>) : undefined;
  };

  let systemFaults = new Set<string>();
  function reportSystem(all: ActiveFault[]): void {
    const now = new Set(all.filter((f) => isSystemFault(f.fault) && isActive(f)).map((f) => `${f.target}\u0000${f.fault}`));
    for (const key of new Set([...systemFaults, ...now])) {
      const [t = '', fault = ''] = key.split('\u0000');
      activeGauge.set({ target: t, fault }, now.has(key) ? 1 : 0);
    }
    systemFaults = now;
  }

  function apply(all: ActiveFault[]): void {
    if (deps.reportSystemFaults) reportSystem(all);
    const mine = all.filter((f) => f.target === target && !isSystemFault(f.fault) && isActive(f));
    const before = faults;
    faults = new Map(mine.map((f) => [f.fault, f]));
    for (const name of new Set([...before.keys(), ...faults.keys()])) {
      const on = faults.has(name);
      if (on !== before.has(name)) deps.logger.warn({ fault: name, params: faults.get(name)?.params }, `chaos: ${name} ${on ? 'on' : 'off'}`);
      activeGauge.set({ target, fault: name }, on ? 1 : 0);
    }
    const crash = faults.get('crash');
    if (crash && Date.parse(crash.setAt) > startedAt) {
      deps.logger.fatal({ fault: 'crash' }, 'chaos: crashing now');
      process.kill(process.pid, 'SIGKILL');
    }
    updateHang();
    updateCpuBurn();
    updateLeak();
  }

  function updateHang(): void {
    if (get('hang') && !hangRelease) hangEnded = new Promise((resolve) => { hangRelease = resolve; });
    if (!get('hang') && hangRelease) { hangRelease(); hangRelease = undefined; }
  }

  function updateCpuBurn(): void {
    const burn = get('cpu_burn');
    if (burn && !cpuTimer) {
      // Busy for `ratio` of every 100 ms: the event loop is as starved as on a saturated CPU.
      cpuTimer = setInterval(() => {
        const ratio = get('cpu_burn')?.ratio ?? 0;
        const until = performance.now() + ratio * 100;
        while (performance.now() < until) { /* burn */ }
      }, 100);
      cpuTimer.unref();
    } else if (!burn && cpuTimer) {
      clearInterval(cpuTimer);
      cpuTimer = undefined;
    }
  }

  function updateLeak(): void {
    const leak = get('memory_leak');
    if (leak && !leakTimer) {
      leakTimer = setInterval(() => {
        const p = get('memory_leak');
        if (!p) return;
        const heldMb = leaked.length / 10;
        if (heldMb >= p.cap) return;
        // Tenths of a MB, touched so the pages are really resident.
        for (let i = 0; i < p.mb_per_min / 6 && leaked.length / 10 < p.cap; i++) leaked.push(Buffer.alloc(102_400, 1));
      }, 1_000);
      leakTimer.unref();
    } else if (!leak && leakTimer) {
      clearInterval(leakTimer);
      leakTimer = undefined;
      leaked.length = 0;
    }
  }

  async function disturb(bodyBytes: number, signal?: AbortSignal): Promise<void> {
    if (faults.size === 0) return;
    const latency = get('latency');
    if (latency) await sleep(Math.max(0, latency.ms + (Math.random() * 2 - 1) * latency.jitter), undefined, signal ? { signal } : undefined);
    const bandwidth = get('bandwidth');
    if (bandwidth) await sleep(((bodyBytes + 512) * 8) / bandwidth.kbps, undefined, signal ? { signal } : undefined);
    if (get('hang')) await (signal ? Promise.race([hangEnded, abortPromise(signal)]) : hangEnded);
    const errors = get('error_rate');
    if (errors && Math.random() < errors.ratio) throw new InjectedFault(target, errors.status);
  }

  let latest: ActiveFault[] = [];
  const unwatch = await store.watch((all) => { latest = all; apply(all); });
  // Expiry needs no one to clear it: re-evaluate every second.
  const expiry = setInterval(() => apply(latest), 1_000);
  expiry.unref();

  return {
    armed: () => faults.size > 0,
    inbound: (bodyBytes = 0, signal) => disturb(bodyBytes, signal),
    outbound: (signal, bodyBytes = 0) => disturb(bodyBytes, signal),
    active: () => [...faults.values()].filter((f) => isActive(f)),
    stop() {
      unwatch();
      clearInterval(expiry);
      faults = new Map();
      updateHang();
      updateCpuBurn();
      updateLeak();
    },
  };
}

function abortPromise(signal: AbortSignal): Promise<void> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
