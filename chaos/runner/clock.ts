// Time for the runner, injectable so tests can run an hour-long timeline in no time.
import { setTimeout as sleep } from 'node:timers/promises';

export type Clock = {
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
};

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : {}).catch(() => undefined),
};

/** Virtual time: sleeping moves the clock forward at once. */
export function virtualClock(start = 0): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    advance: (ms) => { now += ms; },
    sleep: async (ms, signal) => { if (!signal?.aborted) now += Math.max(0, ms); },
  };
}
