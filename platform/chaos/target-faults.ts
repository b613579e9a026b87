// The process faults aimed at this process, as the store last gave them: which are on (each change
// logged and on the gauge) and the process-wide effects they have (crash, hang, CPU, memory).
import type { Logger } from '../logger.ts';
import type { Gauge } from '../metrics.ts';
import { isSystemFault, type ActiveFault, type ChaosTarget, type FaultName, type FaultParams } from './catalogue.ts';
import { cpuBurn, HangGate, memoryLeak } from './process-effects.ts';
import { isActive } from './store.ts';

export class TargetFaults {
  readonly target: ChaosTarget;
  readonly hang = new HangGate();
  private readonly logger: Logger;
  private readonly gauge: Gauge<'target' | 'fault'>;
  /** A crash set before this process started is the one that killed its predecessor: not again. */
  private readonly startedAt = Date.now();
  private faults = new Map<FaultName, ActiveFault>();
  private readonly cpu = cpuBurn(() => this.get('cpu_burn'));
  // A leak is in the process that was running when it was set: a restart frees the memory and the
  // new process does not leak (the exam's 6 PM fix), until the fault is set again.
  private readonly memory = memoryLeak(() => (this.setBeforeStart('memory_leak') ? undefined : this.get('memory_leak')));

  constructor(target: ChaosTarget, logger: Logger, gauge: Gauge<'target' | 'fault'>) {
    this.target = target;
    this.logger = logger;
    this.gauge = gauge;
  }

  /** The parameters of a fault while it is on (set and not expired). */
  get<F extends FaultName>(name: F): FaultParams<F> | undefined {
    const f = this.faults.get(name);
    return f && isActive(f) ? (f.params as FaultParams<F>) : undefined;
  }

  private setBeforeStart(name: FaultName): boolean {
    const f = this.faults.get(name);
    return f !== undefined && Date.parse(f.setAt) <= this.startedAt;
  }

  /** True while any fault is aimed at this process, expired ones included until the next apply. */
  armed(): boolean {
    return this.faults.size > 0;
  }

  active(): ActiveFault[] {
    return [...this.faults.values()].filter((f) => isActive(f));
  }

  /** Takes the faults of this target out of every stored fault, and carries out what changed. */
  apply(all: ActiveFault[]): void {
    const mine = all.filter((f) => f.target === this.target && !isSystemFault(f.fault) && isActive(f));
    const before = this.faults;
    this.faults = new Map(mine.map((f) => [f.fault, f]));
    for (const name of new Set([...before.keys(), ...this.faults.keys()])) {
      const on = this.faults.has(name);
      if (on !== before.has(name)) this.logger.warn({ fault: name, params: this.faults.get(name)?.params }, `chaos: ${name} ${on ? 'on' : 'off'}`);
      this.gauge.set({ target: this.target, fault: name }, on ? 1 : 0);
    }
    const crash = this.faults.get('crash');
    if (crash && Date.parse(crash.setAt) > this.startedAt) {
      this.logger.fatal({ fault: 'crash' }, 'chaos: crashing now');
      process.kill(process.pid, 'SIGKILL');
    }
    this.updateEffects();
  }

  /** Forgets every fault and undoes their effects (the gauge keeps its last values). */
  clear(): void {
    this.faults = new Map();
    this.updateEffects();
  }

  private updateEffects(): void {
    this.hang.update(this.get('hang') !== undefined);
    this.cpu.update();
    this.memory.update();
  }
}
