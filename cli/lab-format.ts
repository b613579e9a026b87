// What `tps lab` prints: the catalogue, a lab's brief at start, check results and the report.
import type { Lab } from '#operator/labs/lab-schema.ts';
import type { LabRun } from '#operator/labs/lab-state.ts';
import type { Grading } from '#operator/labs/grade.ts';
import type { Evidence } from '#operator/labs/evidence.ts';
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

/** `day`: an exam day's account (operator/exam/day-report.ts), after the checks. */
export function labReport(lab: Lab, run: LabRun, grading: Grading, evidence?: Evidence, day: readonly string[] = []): string {
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
    '| Check | Weight | Result | Measured | Why not | Graded by |',
    '|---|---|---|---|---|---|',
    ...grading.results.map(({ check, result }) => `| ${check.title} | ${check.weight} | ${result.holds ? 'pass' : 'fail'} | ${cell(result.measured ?? '')} | ${result.holds ? '' : cell(result.reason ?? '')} | ${check.graded} |`),
    ...personGraded(grading),
    ...day,
    ...(evidence ? evidenceLines(evidence) : []),
    '',
    '## Answers',
    ...(Object.keys(run.answers).length ? Object.entries(run.answers).map(([k, v]) => `- ${k} = ${v}`) : ['(none)']),
    '',
    `Hints used: ${Object.values(run.hintsShown).reduce((a, b) => a + b, 0)}.`,
    '',
  ].join('\n');
}

const pct = (score: number) => `${Math.round(score * 100)} %`;
const cell = (text: string | number) => String(text).replaceAll('|', '\\|');

const labelText = (labels: Record<string, string>) => Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(' ');

/** The traces behind the figures: open one in Jaeger (/trace/<id>) to see where the time went. */
function evidenceLines(evidence: Evidence): string[] {
  const lines = ['', '## Evidence: traces'];
  if (evidence.slowest.length > 0) {
    lines.push('', 'The slowest traced observations since the lab started (open one in Jaeger: http://localhost:16686/trace/<trace id>):', '',
      '| Trace id | Seconds | Role | Metric | Labels | At |', '|---|---|---|---|---|---|',
      ...evidence.slowest.map((o) => `| ${o.traceId} | ${o.seconds.toFixed(3)} | ${o.role} | ${o.metric} | ${cell(labelText(o.labels))} | ${o.at} |`));
  }
  if (evidence.deadLettered.length > 0) {
    lines.push('', 'Jobs dead-lettered since the lab started (the latest):', '',
      '| Trace id | Job | Type | Error | Replayed as | At |', '|---|---|---|---|---|---|',
      ...evidence.deadLettered.map((d) => `| ${d.traceId} | ${d.jobId} | ${d.type} | ${d.code} | ${d.replayedAs ?? ''} | ${d.at} |`));
  }
  for (const note of evidence.notes) lines.push('', note);
  return lines;
}

/** What a machine could not judge: said in the report, so a person grades it. */
function personGraded(grading: Grading): string[] {
  const parts = grading.results.filter((r) => r.check.graded !== 'machine').map((r) => r.check.title);
  if (parts.length === 0) return ['', 'Every check above was graded by the machine.'];
  return ['', `The machine graded every check above. A person must still grade the content of: ${parts.join('; ')} (the answers below are the candidate's words).`];
}
