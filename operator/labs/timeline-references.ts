// What the schema cannot see in an exam day (operator/exam/timeline.ts): each failure is a fault
// the chaos catalogue accepts on every role its target may be, it begins before the day ends, and
// the checks' `since` and the solve's `$choice` roles name what exists.
import { validateFault } from '#platform/chaos/catalogue.ts';
import { failureParams } from '#operator/exam/timeline.ts';
import type { Lab } from './lab-schema.ts';
import { singleProbes } from './probes.ts';

export function timelineReferences(lab: Lab): string[] {
  const timeline = lab.setup.timeline;
  const failures = timeline?.failures ?? [];
  const problems: string[] = [];
  const targetsOf = (target: string) => (target.startsWith('$') ? lab.setup.choose[target.slice(1)] : [target]);
  for (const f of failures) {
    const targets = targetsOf(f.target);
    if (!targets) problems.push(`setup.timeline.${f.id}: ${f.target} is not a setup choice`);
    for (const target of targets ?? []) {
      try { validateFault({ target, fault: f.fault, params: failureParams(f, 1) }); } catch (err) { problems.push(`setup.timeline.${f.id}: ${(err as Error).message}`); }
    }
    if (timeline && f.at >= timeline.length) problems.push(`setup.timeline.${f.id}: it begins after the day ends`);
  }
  if (new Set(failures.map((f) => f.id)).size !== failures.length) problems.push('setup.timeline: two failures share an id');
  for (const p of singleProbes(lab.checks.map((c) => c.probe))) {
    if (p.kind === 'event' && p.since !== undefined && !failures.some((f) => f.id === p.since)) problems.push(`checks: since "${p.since}" is not a failure of the exam day`);
  }
  for (const s of lab.solve) {
    if (s.do === 'wait-failure' && !failures.some((f) => f.id === s.failure)) problems.push(`solve: wait-failure "${s.failure}" is not a failure of the exam day`);
    if (s.do === 'restart' && s.role.startsWith('$') && !lab.setup.choose[s.role.slice(1)]) problems.push(`solve: restart ${s.role} is not a setup choice`);
  }
  return problems;
}
