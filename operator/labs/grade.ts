// Grades a lab run: every check's probe against the live stack, the score the weighted share of
// checks that hold (as chaos tools score a run by the probes that held), passed at the lab's mark.
import type { Target } from '#operator/status/replica-targets.ts';
import type { Check, Lab } from './lab-schema.ts';
import type { Grade, LabRun } from './lab-state.ts';
import { runProbes, type ProbeResult } from './probes.ts';

export type CheckResult = { check: Check; result: ProbeResult };
export type Grading = { results: CheckResult[]; grade: Grade };

export async function gradeRun(lab: Lab, run: LabRun, targets: readonly Target[]): Promise<Grading> {
  const outcomes = await runProbes(lab.checks.map((c) => c.probe), { targets, run });
  const results = lab.checks.map((check, i) => ({ check, result: outcomes[i] ?? { holds: false, reason: 'not evaluated' } }));
  const total = lab.checks.reduce((sum, c) => sum + c.weight, 0);
  const held = results.filter((r) => r.result.holds).reduce((sum, r) => sum + r.check.weight, 0);
  const score = Math.round((held / total) * 1000) / 1000;
  return { results, grade: { at: new Date().toISOString(), score, passed: score >= lab.passAt } };
}
