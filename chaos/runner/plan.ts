// Turns a scenario into a timeline of events at real offsets: `--speed 60` makes an hour a minute,
// and fault durations shrink too (never below 1 s). Every fault is checked against the catalogue at
// the compressed duration, so a plan that exists can be run. A fault's end is an event of its own,
// dropped when a later step clears or sets the same fault first.
import { ChaosInputError, faultKey, validateFault } from '#platform/chaos/catalogue.ts';
import type { ChaosRequest } from '../control-plane.ts';
import type { Scenario } from './schema.ts';

export const minimumFaultMs = 1_000;

type Timing = { atMs: number; sourceAtMs: number; step: number; label?: string };
export type SetEvent = Timing & { kind: 'set'; request: Required<Pick<ChaosRequest, 'target' | 'fault' | 'params' | 'durationMs'>>; untilMs: number };
export type ClearEvent = Timing & { kind: 'clear'; target: string; fault?: string; reason: 'step' | 'ends' };
export type NoteEvent = Timing & { kind: 'observe' | 'expect'; text: string };
export type PlannedEvent = SetEvent | ClearEvent | NoteEvent;
export type Plan = { scenario: Scenario; speed: number; events: PlannedEvent[]; totalMs: number };

export class PlanError extends Error {
  readonly step: number;
  constructor(step: number, message: string) {
    super(message);
    this.name = 'PlanError';
    this.step = step;
  }
}

export function planTimeline(scenario: Scenario, speed: number): Plan {
  if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`speed must be a positive number, got ${speed}`);
  const compress = (ms: number) => Math.round(ms / speed);
  const events: PlannedEvent[] = [];
  const pendingEnds = new Map<string, ClearEvent>();
  /** A fault set again, or cleared, before its end: that end no longer happens. */
  const dropEnds = (atMs: number, matches: (key: string) => boolean) => {
    for (const [key, end] of pendingEnds) {
      if (!matches(key)) continue;
      if (end.atMs >= atMs) events.splice(events.indexOf(end), 1);
      pendingEnds.delete(key);
    }
  };

  scenario.steps.forEach((step, index) => {
    const timing: Timing = { atMs: compress(step.at), sourceAtMs: step.at, step: index, ...(step.label ? { label: step.label } : {}) };
    if (step.set) {
      const durationMs = Math.max(minimumFaultMs, compress(step.set.duration));
      try {
        validateFault({ ...step.set, durationMs });
      } catch (err) {
        if (err instanceof ChaosInputError) throw new PlanError(index, speed === 1 ? err.message : `${err.message} (at --speed ${speed})`);
        throw err;
      }
      const { target, fault, params } = step.set;
      const key = faultKey(target, fault);
      dropEnds(timing.atMs, (k) => k === key);
      const end: ClearEvent = { kind: 'clear', reason: 'ends', target, fault, atMs: timing.atMs + durationMs, sourceAtMs: step.at + step.set.duration, step: index };
      events.push({ ...timing, kind: 'set', request: { target, fault, params, durationMs }, untilMs: end.atMs }, end);
      pendingEnds.set(key, end);
    } else if (step.clear) {
      const { target, fault } = step.clear;
      dropEnds(timing.atMs, (k) => (fault ? k === faultKey(target, fault) : k.startsWith(`${target}.`)));
      events.push({ ...timing, kind: 'clear', reason: 'step', target, ...(fault ? { fault } : {}) });
    } else {
      const kind = step.observe !== undefined ? 'observe' : 'expect';
      events.push({ ...timing, kind, text: step.observe ?? step.expect ?? '' });
    }
  });

  // Stable: a fault's end comes before a step at the same instant (it was pushed earlier).
  events.sort((a, b) => a.atMs - b.atMs);
  return { scenario, speed, events, totalMs: Math.max(0, ...events.map((e) => e.atMs)) };
}

/** The scenario's length at speed 1 (what `tps chaos run --list` shows). */
export const scenarioLengthMs = (scenario: Scenario) => planTimeline(scenario, 1).totalMs;
