// The process-wide effects of faults: a hang every request waits on, a busy CPU, retained memory.
// Each starts when its fault comes on and is undone when it goes off. The ticking ones read their
// fault through `current` at every tick, so a change of parameters or an expiry acts at once.
import type { FaultName, FaultParams } from './catalogue.ts';

/** While `hang` is on, `ended` stays pending: requests wait on it and go on when the fault ends. */
export class HangGate {
  ended: Promise<void> = Promise.resolve();
  private release: (() => void) | undefined;

  update(on: boolean): void {
    if (on && !this.release) this.ended = new Promise((resolve) => { this.release = resolve; });
    if (!on && this.release) { this.release(); this.release = undefined; }
  }
}

/** Calls `tick` every `everyMs` while its fault is on; `undo` when it goes off. */
export class TickingEffect<F extends FaultName> {
  private readonly current: () => FaultParams<F> | undefined;
  private readonly everyMs: number;
  private readonly tick: (params: FaultParams<F> | undefined) => void;
  private readonly undo: () => void;
  private timer: NodeJS.Timeout | undefined;

  constructor(current: () => FaultParams<F> | undefined, everyMs: number, tick: (params: FaultParams<F> | undefined) => void, undo = () => {}) {
    this.current = current;
    this.everyMs = everyMs;
    this.tick = tick;
    this.undo = undo;
  }

  update(): void {
    const on = this.current();
    if (on && !this.timer) {
      this.timer = setInterval(() => this.tick(this.current()), this.everyMs);
      this.timer.unref();
    } else if (!on && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.undo();
    }
  }
}

/** Busy for `ratio` of every 100 ms: the event loop is as starved as on a saturated CPU. */
export function cpuBurn(current: () => FaultParams<'cpu_burn'> | undefined): TickingEffect<'cpu_burn'> {
  return new TickingEffect(current, 100, (p) => {
    const until = performance.now() + (p?.ratio ?? 0) * 100;
    while (performance.now() < until) { /* burn */ }
  });
}

/** Every second, a sixtieth of `mb_per_min` more held, up to `cap` MB; all let go when it ends. */
export function memoryLeak(current: () => FaultParams<'memory_leak'> | undefined): TickingEffect<'memory_leak'> {
  const leaked: Buffer[] = [];
  return new TickingEffect(current, 1_000, (p) => {
    if (!p) return;
    const heldMb = leaked.length / 10;
    if (heldMb >= p.cap) return;
    // Tenths of a MB, touched so the pages are really resident.
    for (let i = 0; i < p.mb_per_min / 6 && leaked.length / 10 < p.cap; i++) leaked.push(Buffer.alloc(102_400, 1));
  }, () => { leaked.length = 0; });
}
