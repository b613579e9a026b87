// An exam day as data (the Level 3 exam's "Friday before a holiday weekend"): a steady load for
// the whole day and failures at their times, each a fault that stays until the exam ends (the
// proctor sets it again if it expires or is cleared: the failure belongs to the world, and only
// the candidate's levers make the system cope with it). `--speed` compresses the day.
import { z } from 'zod';
import { parseDuration } from '#platform/config-types.ts';
import { eventSubject } from '#platform/nats/subjects.ts';

const duration = z.string().transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined || ms < 0) { ctx.addIssue({ code: 'custom', message: 'a duration, e.g. 90s, 15m, 2h' }); return z.NEVER; }
  return ms;
});
const name = z.string().regex(/^[\w-]{1,40}$/, 'letters, digits, "_" or "-"');

export const failureSchema = z.object({
  id: name,
  /** Exam time from the start: "1h" is 3 PM when the day starts at 2 PM. */
  at: duration,
  label: z.string().min(1),
  /** A role, or a setup choice (`$crash`). */
  target: z.string().min(1),
  fault: z.string().min(1),
  params: z.record(z.string(), z.unknown()).default({}),
  /** Parameters that are rates per minute of wall time, multiplied by --speed (a leak's MB/min). */
  perMinute: z.array(z.string()).default([]),
});
export type Failure = z.infer<typeof failureSchema>;

export const timelineSchema = z.object({
  /** The load that runs all day (open model): jobs/s and the job mix, as `make load` takes them. */
  load: z.object({ rate: z.number().int().min(1).max(2_000), mix: z.string().optional() }),
  length: duration,
  /** An acknowledgement this soon after a failure began (exam time) counts as detected in time. */
  detectWithin: duration,
  failures: z.array(failureSchema).min(1),
});
export type Timeline = z.infer<typeof timelineSchema>;

/** Where the proctor says a failure began, and the candidate says one was seen. */
export const examSubjects = { failure: eventSubject('exam.failure'), ack: eventSubject('exam.ack'), ended: eventSubject('exam.ended') } as const;

export const failureStartSchema = z.object({ failure: z.string(), at: z.string(), target: z.string(), fault: z.string() });
export type FailureStart = z.infer<typeof failureStartSchema>;

/** Wall-clock milliseconds from the exam's start for an exam-time offset at this speed. */
export const wallMs = (examMs: number, speed: number): number => Math.round(examMs / speed);

export const resolveTarget = (target: string, choices: Readonly<Record<string, string>>): string =>
  (target.startsWith('$') ? choices[target.slice(1)] ?? target : target);

/** The fault's parameters at this speed (per-minute rates scaled). */
export function failureParams(failure: Failure, speed: number): Record<string, unknown> {
  const params = { ...failure.params };
  for (const key of failure.perMinute) if (typeof params[key] === 'number') params[key] = Math.min((params[key] as number) * speed, 1024);
  return params;
}

/** The first start of each failure among these events (the proctor may announce one again after a restart). */
export function failureStarts(events: readonly Readonly<Record<string, unknown>>[]): Map<string, FailureStart> {
  const starts = new Map<string, FailureStart>();
  for (const e of events) {
    const parsed = failureStartSchema.safeParse(e);
    if (parsed.success && !starts.has(parsed.data.failure)) starts.set(parsed.data.failure, parsed.data);
  }
  return starts;
}
