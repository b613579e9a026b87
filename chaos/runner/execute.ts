// Carries out a planned timeline through a ChaosControl: each event at its offset, printed as it
// happens. Whatever the run set and has not cleared is cleared at the end, however the run ends
// (finished, interrupted by the signal, or failed), so a scenario never leaves a fault behind.
import { faultKey } from '#platform/chaos/catalogue.ts';
import type { ChaosControl } from '../control-plane.ts';
import type { Clock } from './clock.ts';
import { clock as hhmmss, eventLines } from './format.ts';
import type { Plan, PlannedEvent } from './plan.ts';

export type RunOptions = {
  control: ChaosControl;
  clock: Clock;
  /** Aborting it (Ctrl-C) stops the timeline; the cleanup still runs. */
  signal: AbortSignal;
  say(line: string): void;
  /** Who the audit events name. */
  by: string;
  /** Called after each event is carried out (tests look at the system here). */
  afterEvent?(event: PlannedEvent): Promise<void> | void;
};

export type RunResult = {
  interrupted: boolean;
  /** Clock time when the last fault was cleared (undefined if the scenario set none). */
  lastClearAt?: number;
  /** Faults cleared by the cleanup because the timeline had not ended them yet. */
  leftovers: string[];
};

export async function runTimeline(plan: Plan, opts: RunOptions): Promise<RunResult> {
  const { control, clock, signal, say, by } = opts;
  const start = clock.now();
  const owned = new Map<string, { target: string; fault: string }>();
  let lastClearAt: number | undefined;
  let completed = false;
  let leftovers: Array<{ target: string; fault: string }> = [];

  async function carryOut(event: PlannedEvent): Promise<void> {
    if (event.kind === 'set') {
      await control.set(event.request, by);
      owned.set(faultKey(event.request.target, event.request.fault), event.request);
    } else if (event.kind === 'clear') {
      const cleared = await control.clear(event.target, event.fault, by);
      for (const [key, f] of owned) if (f.target === event.target && (!event.fault || f.fault === event.fault)) owned.delete(key);
      if (cleared.length || event.reason === 'ends') lastClearAt = clock.now();
    }
  }

  try {
    for (const event of plan.events) {
      const wait = start + event.atMs - clock.now();
      if (wait > 0) await clock.sleep(wait, signal);
      if (signal.aborted) break;
      for (const line of eventLines(plan, event)) say(line);
      await carryOut(event);
      await opts.afterEvent?.(event);
    }
    completed = !signal.aborted;
  } finally {
    leftovers = [...owned.values()];
    for (const f of leftovers) {
      // Each one is tried even if another fails: the worst outcome is a fault left running.
      await control.clear(f.target, f.fault, by).catch((err: unknown) => say(`could not clear ${f.target} ${f.fault}: ${(err as Error).message}; clear it with \`tps chaos clear ${f.target} ${f.fault}\``));
    }
    if (leftovers.length) {
      lastClearAt = clock.now();
      say(`[${hhmmss(lastClearAt - start)}] ${completed ? 'end' : 'stopped'}: cleared ${leftovers.map((f) => `${f.target} ${f.fault}`).join(', ')}`);
    }
    owned.clear();
  }
  return { interrupted: !completed, leftovers: leftovers.map((f) => faultKey(f.target, f.fault)), ...(lastClearAt !== undefined ? { lastClearAt } : {}) };
}
