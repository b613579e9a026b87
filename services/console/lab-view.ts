// Lab mode: the lab (or exam) in progress, as the learner sees it on the console: its objective and
// tasks, every check graded now with what it measured or why it fails, the hints the learner has
// unlocked (`tps lab hint`), and the last grade `tps lab check` recorded. The console grades with
// the same engine and probes as `tps lab check`, but records nothing (no grade, no latch: the
// command does that), and leaves out a check whose grading runs loads of its own (lab 3.2's).
import { findLab } from '#operator/labs/catalogue.ts';
import { gradeRun, type CheckResult } from '#operator/labs/grade.ts';
import { applies, type Lab } from '#operator/labs/lab-schema.ts';
import { activeRun, type LabRun } from '#operator/labs/lab-state.ts';
import { singleProbes, type ProbeSources } from '#operator/labs/probes.ts';
import { html, type Html } from './html.ts';

export type LabView = {
  lab: Lab;
  run: LabRun;
  results: CheckResult[];
  /** Checks only `tps lab check` grades (they act on the system). */
  leftOut: string[];
  /** The score of the checks graded here, as `tps lab check` would count it now. */
  score: number;
  at: string;
};

const actsOnTheSystem = (check: Lab['checks'][number]) => singleProbes([check.probe]).some((p) => p.kind === 'tuned');

/** The lab in progress graded now, or undefined when none runs (or its file is not in the catalogue). */
export async function labView(stateDir: string, sources: ProbeSources): Promise<LabView | undefined> {
  const run = activeRun(stateDir);
  const lab = run ? findLab(run.id) : undefined;
  if (!run || !lab) return undefined;
  const applying = lab.checks.filter((c) => applies(c.when, run.choices));
  const graded = new Set(applying.filter((c) => !actsOnTheSystem(c)).map((c) => c.id));
  const { results } = await gradeRun(lab, run, { ...sources, stateDir }, graded);
  const total = applying.reduce((sum, c) => sum + c.weight, 0);
  const passed = results.filter((r) => r.result.holds).reduce((sum, r) => sum + r.check.weight, 0);
  return {
    lab, run, results, leftOut: applying.filter((c) => !graded.has(c.id)).map((c) => c.id),
    score: total ? Math.round((passed / total) * 100) : 0, at: new Date().toISOString(),
  };
}

const pct = (x: number) => `${Math.round(x * 100)} %`;
const clock = (iso: string) => iso.slice(11, 19);

export function renderLabPanel(view: LabView | undefined): Html {
  if (!view) {
    return html`<p data-testid="lab-none">No lab in progress. Start one with <code>tps lab start &lt;id&gt;</code> (<code>tps lab list</code> lists them; <code>tps exam 2</code> and <code>tps exam 3</code> are the practical exams); it shows here, graded live.</p>`;
  }
  const { lab, run } = view;
  const hints = (id: string) => (lab.checks.find((c) => c.id === id)?.hints ?? []).slice(0, run.hintsShown[id] ?? 0);
  return html`<div data-testid="lab-view" data-lab="${lab.id}">
<h2>${lab.id.startsWith('exam') ? '' : 'Lab '}${lab.id}: ${lab.title}</h2>
<p>Started ${clock(run.startedAt)} UTC${run.speed > 1 ? `, its timeline ${run.speed}x shorter` : ''}${Object.keys(run.choices).length ? '; the setup chose for you (it is part of the lab to find out)' : ''}. ${lab.objective}</p>
<h3>Tasks</h3>
<ol class="tasks">${lab.tasks.map((t) => html`<li>${t}</li>`)}</ol>
<h3>Checks, graded now: <span data-testid="lab-score" class="${view.score >= lab.passAt * 100 ? 'mark-ok' : 'mark-watch'}">${view.score} %</span> (passes at ${pct(lab.passAt)})</h3>
<table data-testid="lab-checks"><thead><tr><th>check</th><th>weight</th><th>now</th><th>measured, or why not</th><th>hints you unlocked</th></tr></thead><tbody>
${view.results.map((r) => html`<tr data-check="${r.check.id}" data-holds="${String(r.result.holds)}"><td><strong>${r.check.id}</strong> ${r.check.title}</td><td>${r.check.weight}</td>
<td class="${r.result.holds ? 'mark-ok' : 'mark-bad'}">${r.result.holds ? 'pass' : 'FAIL'}</td>
<td>${r.result.holds ? (r.result.measured ?? '') : (r.result.reason ?? '')}</td>
<td>${hints(r.check.id).length ? html`<ol class="hints">${hints(r.check.id).map((h) => html`<li>${h}</li>`)}</ol>` : html`<small>none yet: <code>tps lab hint ${lab.id} ${r.check.id}</code></small>`}</td></tr>`)}
${view.leftOut.map((id) => html`<tr data-check="${id}"><td><strong>${id}</strong> ${lab.checks.find((c) => c.id === id)?.title ?? ''}</td><td>${lab.checks.find((c) => c.id === id)?.weight ?? ''}</td><td>-</td><td colspan="2">graded by <code>tps lab check ${lab.id}</code> only: its grader runs loads of its own</td></tr>`)}
</tbody></table>
<p><small>Graded ${clock(view.at)} UTC by the same checks as <code>tps lab check ${lab.id}</code>, without recording anything: the command records the grade and keeps what has held.
${run.lastGrade ? html`Last recorded: <strong data-testid="lab-last-grade">${pct(run.lastGrade.score)}${run.lastGrade.passed ? ', passed' : ''}</strong> at ${clock(run.lastGrade.at)} UTC.` : 'No grade recorded yet.'}</small></p>
</div>`;
}
