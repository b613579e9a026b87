// What `tps lab` prints: the catalogue, a lab's brief at start, check results and the report.
import type { Lab } from '#operator/labs/lab-schema.ts';
import type { LabRun } from '#operator/labs/lab-state.ts';
import type { Grading } from '#operator/labs/grade.ts';
import { table } from './session.ts';

export { labBrief } from '#operator/labs/brief.ts';

export function labList(labs: readonly Lab[], runs: ReadonlyMap<string, LabRun | undefined>): string {
  const state = (run: LabRun | undefined) => {
    if (!run) return 'not started';
    const best = run.bestGrade ? ` (best ${pct(run.bestGrade.score)}${run.bestGrade.passed ? ', passed' : ''})` : '';
    return `${run.stoppedAt ? 'stopped' : 'in progress'}${best}`;
  };
  return table([['LAB', 'LEVEL', 'MINUTES', 'TITLE', 'STATE'], ...labs.map((l) => [l.id, l.level, l.minutes, l.title, state(runs.get(l.id))])]);
}

export function checkLines(grading: Grading): string {
  return grading.results.map(({ check, result }) => {
    const mark = result.holds ? 'pass' : 'FAIL';
    const detail = result.holds ? (result.measured === undefined ? '' : ` (${result.measured})`) : `: ${result.reason ?? 'does not hold'}`;
    return `  ${mark}  ${check.id.padEnd(16)} ${check.title}${detail}`;
  }).join('\n');
}

export function gradeLine(lab: Lab, grading: Grading): string {
  return `lab ${lab.id}: ${grading.grade.passed ? 'PASSED' : 'not passed'}, score ${pct(grading.grade.score)} (pass at ${pct(lab.passAt)})`;
}

export function labReport(lab: Lab, run: LabRun, grading: Grading): string {
  return [
    `# Lab ${lab.id}: ${lab.title}`,
    '',
    `Started ${run.startedAt}${run.stoppedAt ? `, stopped ${run.stoppedAt}` : ''}; graded ${grading.grade.at}.`,
    `**${grading.grade.passed ? 'Passed' : 'Not passed'}**, score ${pct(grading.grade.score)} (pass at ${pct(lab.passAt)}).`,
    '',
    '## Tasks',
    ...lab.tasks.map((t, i) => `${i + 1}. ${t}`),
    '',
    '## Checks',
    '',
    '| Check | Weight | Result | Measured | Why not |',
    '|---|---|---|---|---|',
    ...grading.results.map(({ check, result }) => `| ${check.title} | ${check.weight} | ${result.holds ? 'pass' : 'fail'} | ${result.measured ?? ''} | ${result.holds ? '' : result.reason ?? ''} |`),
    '',
    '## Answers',
    ...(Object.keys(run.answers).length ? Object.entries(run.answers).map(([k, v]) => `- ${k} = ${v}`) : ['(none)']),
    '',
    `Hints used: ${Object.values(run.hintsShown).reduce((a, b) => a + b, 0)}.`,
    '',
  ].join('\n');
}

const pct = (score: number) => `${Math.round(score * 100)} %`;
