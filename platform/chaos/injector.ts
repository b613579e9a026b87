// Carries out the process faults aimed at this process, at its boundaries only: HTTP handler
// entry (inbound), calls it makes (outbound), and process-wide effects (CPU, memory, crash).
// Business code never branches on chaos.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.ts';
import { gauge, metrics, type MetricsRegistry } from '../metrics.ts';
import type { ActiveFault, ChaosTarget } from './catalogue.ts';
import type { ChaosStore } from './store.ts';
import { SystemFaultGauge } from './system-fault-gauge.ts';
import { TargetFaults } from './target-faults.ts';

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
  const activeGauge = gauge(deps.registry, metrics.chaosFaultActive);
  const faults = new TargetFaults(target, deps.logger, activeGauge);
  const systemGauge = deps.reportSystemFaults ? new SystemFaultGauge(activeGauge) : undefined;
  const apply = (all: ActiveFault[]) => {
    systemGauge?.report(all);
    faults.apply(all);
  };

  let latest: ActiveFault[] = [];
  const unwatch = await store.watch((all) => { latest = all; apply(all); });
  // Expiry needs no one to clear it: re-evaluate every second.
  const expiry = setInterval(() => apply(latest), 1_000);
  expiry.unref();

  return {
    armed: () => faults.armed(),
    inbound: (bodyBytes = 0, signal) => disturb(faults, bodyBytes, signal),
    outbound: (signal, bodyBytes = 0) => disturb(faults, bodyBytes, signal),
    active: () => faults.active(),
    stop() {
      unwatch();
      clearInterval(expiry);
      faults.clear();
    },
  };
}

/** What a request or call meets at the boundary: latency, a bandwidth limit, a hang, an error. */
async function disturb(faults: TargetFaults, bodyBytes: number, signal?: AbortSignal): Promise<void> {
  if (!faults.armed()) return;
  const latency = faults.get('latency');
  if (latency && (latency.ratio >= 1 || Math.random() < latency.ratio)) await sleep(Math.max(0, latency.ms + (Math.random() * 2 - 1) * latency.jitter), undefined, signal ? { signal } : undefined);
  const bandwidth = faults.get('bandwidth');
  if (bandwidth) await sleep(((bodyBytes + 512) * 8) / bandwidth.kbps, undefined, signal ? { signal } : undefined);
  if (faults.get('hang')) await (signal ? Promise.race([faults.hang.ended, abortPromise(signal)]) : faults.hang.ended);
  const errors = faults.get('error_rate');
  if (errors && Math.random() < errors.ratio) throw new InjectedFault(faults.target, errors.status);
}

function abortPromise(signal: AbortSignal): Promise<void> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
