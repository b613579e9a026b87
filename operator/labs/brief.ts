// What `tps lab start` prints: the lab's objective, tasks, success criteria and checks. Each page in
// docs/labs/ carries the same text in a block `make generate` writes, so the page and the command
// cannot disagree.
import type { Lab } from './lab-schema.ts';

export function labBrief(lab: Lab): string {
  return [
    `Lab ${lab.id}: ${lab.title} (level ${lab.level}, ${lab.minutes} minutes)`,
    '',
    `Objective: ${lab.objective}`,
    '',
    'Tasks:',
    ...lab.tasks.map((t, i) => `  ${i + 1}. ${t}`),
    '',
    'Success criteria:',
    ...lab.criteria.map((c) => `  - ${c}`),
    '',
    `Checks (tps lab status ${lab.id}): ${[...new Set(lab.checks.map((c) => c.id))].join(', ')}. Stuck? tps lab hint ${lab.id} <check>.`,
    `Page: ${lab.doc}`,
  ].join('\n');
}
