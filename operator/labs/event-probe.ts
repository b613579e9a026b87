// The event probe: what happened on NATS while the lab ran, read back from the EVENTS stream
// (the autoscaler's decisions, operators' changes). A metric shows the state now; an event shows
// that something happened at all, and when: "the workers scaled up, then down again".
import type { Probe } from './lab-schema.ts';
import { compare, type ProbeResult } from './probe-result.ts';
import { examSubjects, failureStarts } from '#operator/exam/timeline.ts';

type EventProbe = Extract<Probe, { kind: 'event' }>;
export type LabEvent = Readonly<Record<string, unknown>>;

/** Audit events published on `subject` since `since`, oldest first. */
export type EventReader = (subject: string, since: Date) => Promise<readonly LabEvent[]>;

const at = (event: LabEvent, dotted: string): unknown => dotted.split('.')
  .reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), event);

const time = (event: LabEvent): number => Date.parse(String(event.at ?? '')) || 0;

function matching(probe: EventProbe, events: readonly LabEvent[]): LabEvent[] {
  return events.filter((e) => Object.entries(probe.match).every(([k, v]) => at(e, k) === v));
}

function measure(probe: EventProbe, events: readonly LabEvent[]): number {
  if (!probe.field) return events.length;
  const values = events.map((e) => Number(at(e, probe.field ?? ''))).filter(Number.isFinite);
  return values.length ? Math.max(...values) : 0;
}


/** When the probe first held (ms since the epoch), over events in time order; undefined: never. */
function firstHeld(probe: EventProbe, events: readonly LabEvent[]): number | undefined {
  const seen: LabEvent[] = [];
  for (const e of matching(probe, events)) {
    seen.push(e);
    if (compare[probe.op](measure(probe, seen), probe.value)) return time(e);
  }
  return undefined;
}

export type EventContext = {
  read?: EventReader; since: Date; probeOf: (checkId: string) => Probe | undefined;
  /** When a latched check was first seen holding (ISO time), if it has. */
  heldAt: (checkId: string) => string | undefined;
};

/** From when `after` counts events: an event check's first matching event, else the moment the
 * (latched) check was first seen holding; a string says why there is no such moment yet. */
async function afterTime(checkId: string, ctx: EventContext & { read: EventReader }): Promise<number | string> {
  const before = ctx.probeOf(checkId);
  if (!before) return `"after: ${checkId}" names no check of this lab`;
  if (before.kind === 'event') return firstHeld(before, await ctx.read(before.subject, ctx.since)) ?? `waits for ${checkId} first`;
  const held = ctx.heldAt(checkId);
  return held ? Date.parse(held) : `waits for ${checkId} first`;
}

/** When the exam day's failure began (the proctor's announcement), or why there is no such moment. */
async function failureTime(failure: string, ctx: EventContext & { read: EventReader }): Promise<number | string> {
  const start = failureStarts(await ctx.read(examSubjects.failure, ctx.since)).get(failure);
  return start ? Date.parse(start.at) : `the ${failure} failure has not begun yet`;
}

export async function eventResult(probe: EventProbe, ctx: EventContext): Promise<ProbeResult> {
  if (!ctx.read) return { holds: false, reason: 'events need NATS, which this command could not reach' };
  let events = await ctx.read(probe.subject, ctx.since);
  if (probe.since) {
    const from = await failureTime(probe.since, { ...ctx, read: ctx.read });
    if (typeof from === 'string') return { holds: false, reason: from };
    events = events.filter((e) => time(e) >= from);
  }
  if (probe.after) {
    const from = await afterTime(probe.after, { ...ctx, read: ctx.read });
    if (typeof from === 'string') return { holds: false, reason: from };
    events = events.filter((e) => time(e) > from);
  }
  const measured = measure(probe, matching(probe, events));
  const what = probe.field ? `the largest ${probe.field}` : 'events';
  const where = `${probe.subject}${Object.keys(probe.match).length ? ` ${JSON.stringify(probe.match)}` : ''}`;
  return compare[probe.op](measured, probe.value)
    ? { holds: true, measured }
    : { holds: false, measured, reason: `${what} on ${where} since ${probe.since ? `the ${probe.since} failure began` : 'the lab started'}: ${measured}; the check wants ${probe.op} ${probe.value}` };
}
