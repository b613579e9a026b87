// Grades a lab run: every check's probe against the live stack, the score the weighted share of
// checks that hold (as chaos tools score a run by the probes that held), passed at the lab's mark.
// A latched check that held once stays passed: the moment is recorded in the run.
import { applies, type Lab } from './lab-schema.ts';
import { readRun, recordGrade, writeRun, type Grade, type LabRun } from './lab-state.ts';
import { runProbes, singleProbes, type ProbeResult, type ProbeSources } from './probes.ts';

export type CheckResult = { check: Lab['checks'][number]; result: ProbeResult };
export type Grading = { results: CheckResult[]; grade: Grade; held: LabRun['held'] };

/** `only`: grade just these checks (a solve waiting for one); the others still answer `after`. */
export async function gradeRun(lab: Lab, run: LabRun, sources: ProbeSources, only?: ReadonlySet<string>): Promise<Grading> {
  // Checks that apply to what the setup chose (an exam's incident), in the file's order.
  const checks = lab.checks.filter((c) => applies(c.when, run.choices) && (!only || only.has(c.id)));
  const probeOf = (checkId: string) => lab.checks.find((c) => c.id === checkId)?.probe;
  const held = { ...run.held };
  const results = new Map<string, ProbeResult>();
  // A check that waits for another (kanban-verified for kanban-outage) reads what has latched. What
  // latches now is read by the checks still failing that name it, in another pass, so one `tps lab
  // status` shows them as they stand, not "kanban-outage has not held yet" under a kanban-outage
  // that passes; the others are not probed again (lab 3.2's grader runs a tuning of its own).
  let pending = checks;
  while (pending.length > 0) {
    const outcomes = await runProbes(pending.map((c) => c.probe), { ...sources, run: { ...run, held }, probeOf, startSlots: lab.setup.slots });
    const latched = new Set<string>();
    pending.forEach((check, i) => {
      const now = outcomes[i] ?? { holds: false, reason: 'not evaluated' };
      const before = held[check.id];
      if (check.latch && before) return results.set(check.id, { holds: true, measured: `held at ${before.at}${before.measured ? `: ${before.measured}` : ''}` });
      if (check.latch && now.holds) {
        held[check.id] = { at: new Date().toISOString(), ...(now.measured !== undefined ? { measured: String(now.measured) } : {}) };
        latched.add(check.id);
      }
      results.set(check.id, now);
    });
    pending = checks.filter((c) => results.get(c.id)?.holds !== true && checksNamed(c.probe).some((id) => latched.has(id)));
  }
  const graded = checks.map((check) => ({ check, result: results.get(check.id) ?? { holds: false, reason: 'not evaluated' } }));
  const total = checks.reduce((sum, c) => sum + c.weight, 0);
  const passed = graded.filter((r) => r.result.holds).reduce((sum, r) => sum + r.check.weight, 0);
  const score = Math.round((passed / total) * 1000) / 1000;
  return { results: graded, held, grade: { at: new Date().toISOString(), score, passed: score >= lab.passAt } };
}

/** The checks a probe waits for: a `held` part's, an event part's `after`. */
function checksNamed(probe: Lab['checks'][number]['probe']): string[] {
  return singleProbes([probe]).flatMap((p) => (p.kind === 'held' ? [p.check] : p.kind === 'event' && p.after ? [p.after] : []));
}

/** Grades the lab's run and keeps the outcome (the grade, the best grade, what latched). */
export async function gradeLab(lab: Lab, stack: ProbeSources & { stateDir: string }): Promise<{ run: LabRun; grading: Grading }> {
  const run = readRun(stack.stateDir, lab.id);
  if (!run) throw new Error(`lab ${lab.id} has not been started`);
  const grading = await gradeRun(lab, run, stack);
  const next = recordGrade({ ...run, held: grading.held }, grading.grade);
  writeRun(stack.stateDir, next);
  return { run: next, grading };
}
