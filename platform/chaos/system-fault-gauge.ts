// The gauge of the system faults (nats_down, ...), which no process of theirs can export: exactly
// one role reports it (the ingress), so `sum(tps_chaos_fault_active)` counts each fault once.
import type { Gauge } from '../metrics.ts';
import { isSystemFault, type ActiveFault } from './catalogue.ts';
import { isActive } from './store.ts';

export class SystemFaultGauge {
  private readonly gauge: Gauge<'target' | 'fault'>;
  /** `<target>\0<fault>` of the system faults set to 1 by the last report. */
  private reported = new Set<string>();

  constructor(gauge: Gauge<'target' | 'fault'>) {
    this.gauge = gauge;
  }

  /** Sets every active system fault to 1, and those reported before but gone since to 0. */
  report(all: ActiveFault[]): void {
    const now = new Set(all.filter((f) => isSystemFault(f.fault) && isActive(f)).map((f) => `${f.target}\u0000${f.fault}`));
    for (const key of new Set([...this.reported, ...now])) {
      const [target = '', fault = ''] = key.split('\u0000');
      this.gauge.set({ target, fault }, now.has(key) ? 1 : 0);
    }
    this.reported = now;
  }
}
