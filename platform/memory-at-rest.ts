// Gives memory back once a role is at rest. V8 grows its young generation (new space) to fit a
// burst of allocation, a role's own start included, and keeps it while nothing allocates: a role
// that loaded and compiled its code keeps up to 16 MB of young generation it has no use for until
// work comes. In a browser V8's memory reducer gives it back when the page goes idle; Node never
// tells V8 it is idle, so this does that job. When the event loop was nearly idle over a whole
// window and the young generation has grown since it last shrank, one memory-reducing collection
// (V8's 'last-resort' flavour: a full collection that also shrinks new space to its minimum).
// Under load no window is idle, so it never runs there, and the young generation grows back as
// soon as work needs it. The collection takes 50-120 ms of the main thread (seven roles at once
// on two cores), so it runs at most once a minute: a role that swings between bursts and rest pays
// at most that.
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';

type Collect = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

export type MemoryReduced = { youngBytesBefore: number; youngBytesAfter: number; rssBytesBefore: number; rssBytesAfter: number; ms: number };

export type MemoryAtRestOptions = {
  /** How often the event loop's utilization is read; one whole window must be at rest. */
  readonly windowMs?: number;
  /** Utilization (0-1) below which a window counts as at rest. */
  readonly restBelow?: number;
  /** Resident young generation above which there is something to give back. */
  readonly youngAboveBytes?: number;
  /** The least time between two collections. */
  readonly gapMs?: number;
  /** The event loop's utilization since the last reading (a test gives its own). */
  readonly utilization?: () => number;
  readonly onReduced?: (reduced: MemoryReduced) => void;
};

export type MemoryAtRest = {
  /** Reads the last window and collects if it was at rest; the timer calls it, a test may too. */
  check(): MemoryReduced | undefined;
  stop(): void;
};

export const memoryAtRestDefaults = { windowMs: 5_000, restBelow: 0.02, youngAboveBytes: 2 * 1024 * 1024, gapMs: 60_000 } as const;

export function startMemoryAtRest(options: MemoryAtRestOptions = {}): MemoryAtRest {
  const { windowMs, restBelow, youngAboveBytes, gapMs } = { ...memoryAtRestDefaults, ...options };
  const utilization = options.utilization ?? loopUtilization();
  const collect = memoryReducingCollector();
  let lastCollected = -Infinity;
  const check = (): MemoryReduced | undefined => {
    const atRest = utilization() < restBelow;
    const youngBytesBefore = residentYoungBytes();
    const started = performance.now();
    if (!atRest || youngBytesBefore <= youngAboveBytes || started - lastCollected < gapMs) return undefined;
    lastCollected = started;
    const rssBytesBefore = process.memoryUsage.rss();
    collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    const reduced = { youngBytesBefore, youngBytesAfter: residentYoungBytes(), rssBytesBefore, rssBytesAfter: process.memoryUsage.rss(), ms: performance.now() - started };
    options.onReduced?.(reduced);
    return reduced;
  };
  const timer = setInterval(check, windowMs);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}

/** The young generation's pages in memory now (what shrinking it gives back). */
export function residentYoungBytes(): number {
  return v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.physical_space_size ?? 0;
}

/** The event loop's utilization over the time since the previous call. */
function loopUtilization(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const window = performance.eventLoopUtilization(now, last);
    last = now;
    return window.utilization;
  };
}

/** V8's `gc` function without exposing it to every context: the flag is on only while one new
 * context is made to hand it over (a process started with --expose-gc already has it). */
function memoryReducingCollector(): Collect {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return exposed as Collect;
  v8.setFlagsFromString('--expose-gc');
  try {
    return vm.runInNewContext('gc') as Collect;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}
