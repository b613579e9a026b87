// The system faults in force, each with the timer that reports it when it expires.
import { faultKey, type ActiveFault } from '#platform/chaos/catalogue.ts';
import { isActive } from '#platform/chaos/store.ts';

export class ExpiringFaults {
  private readonly faults = new Map<string, ActiveFault>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  /** Keeps a fault in place of any of the same target and fault; `onExpiry` gets its key when it expires. */
  put(fault: ActiveFault, durationMs: number, onExpiry: (key: string) => void): void {
    const key = faultKey(fault.target, fault.fault);
    this.remove(key);
    this.faults.set(key, fault);
    this.timers.set(key, setTimeout(() => onExpiry(key), durationMs));
  }

  /** Forgets a fault and its timer; returns it, if it was kept. */
  remove(key: string): ActiveFault | undefined {
    const f = this.faults.get(key);
    this.faults.delete(key);
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    return f;
  }

  removeAll(): void {
    for (const key of [...this.faults.keys()]) this.remove(key);
  }

  active(): ActiveFault[] {
    return [...this.faults.values()].filter((f) => isActive(f));
  }
}
