// What a scenario file may say: a name, what it shows, where it comes from, the load it expects,
// and steps at offsets from the start. Each step does exactly one thing: set a fault, clear one, or
// tell the operator what to look at (observe) or what should have happened by now (expect).
import { z } from 'zod';

/** "0s", "30s", "2m20s", "1h5m", "500ms" -> milliseconds; undefined if it is not one. */
export function parseOffset(value: string): number | undefined {
  const ms = /^(\d+)ms$/.exec(value);
  if (ms) return Number(ms[1]);
  const hms = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(value);
  if (!hms || value === '') return undefined;
  return Math.round((Number(hms[1] ?? 0) * 3600 + Number(hms[2] ?? 0) * 60 + Number(hms[3] ?? 0)) * 1000);
}

/** A unit is required: a bare 30 could be seconds or milliseconds. */
export const offset = z.union([z.string(), z.number()]).transform((raw, ctx) => {
  const value = String(raw);
  const ms = parseOffset(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration; write it with a unit, e.g. 0s, 30s, 2m, 1h` });
    return z.NEVER;
  }
  return ms;
});
const positiveDuration = offset.refine((ms) => ms > 0, 'must be longer than 0s');

const name = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and dashes (it is what `tps chaos run <name>` takes)');
const note = z.string().trim().min(1);

const setFault = z.strictObject({
  target: z.string().min(1),
  fault: z.string().min(1),
  params: z.record(z.string(), z.unknown()).default({}),
  /** How long the fault lasts (compressed by --speed; the store's expiry backs it up). */
  duration: positiveDuration,
});
const clearFault = z.strictObject({ target: z.string().min(1), fault: z.string().min(1).optional() });

export const stepSchema = z.strictObject({
  at: offset,
  /** A short heading printed with the step, e.g. "3 PM: downstream service becomes slow". */
  label: note.optional(),
  set: setFault.optional(),
  clear: clearFault.optional(),
  observe: note.optional(),
  expect: note.optional(),
}).superRefine((step, ctx) => {
  const actions = (['set', 'clear', 'observe', 'expect'] as const).filter((k) => step[k] !== undefined);
  if (actions.length !== 1) {
    ctx.addIssue({ code: 'custom', message: actions.length ? `a step does one thing; this one has ${actions.join(' and ')} (split it into steps at the same offset)` : 'a step needs one of set, clear, observe, expect' });
  }
});

export const loadHintSchema = z.strictObject({
  rate: z.number().positive().max(10_000).optional(),
  mix: z.string().min(1).optional(),
  note: note.optional(),
});

export const scenarioSchema = z.strictObject({
  name,
  description: note,
  reference: note,
  load: loadHintSchema.optional(),
  steps: z.array(stepSchema).min(1),
}).superRefine((s, ctx) => {
  s.steps.forEach((step, i) => {
    const previous = s.steps[i - 1];
    if (previous && step.at < previous.at) ctx.addIssue({ code: 'custom', path: ['steps', i, 'at'], message: 'steps must be in time order (this one is earlier than the step before it)' });
  });
});

export type Step = z.output<typeof stepSchema>;
export type LoadHint = z.output<typeof loadHintSchema>;
export type Scenario = z.output<typeof scenarioSchema> & { file: string };
