// One grading settles what it latches: a check that waits for another (lab 3.7's kanban-verified
// for kanban-outage) sees that one hold in the same `tps lab status`, not one command later. Before,
// the status read "kanban-outage has not held yet" right under a kanban-outage that passed.
import { expect, it } from 'vitest';
import { parseLab } from '#operator/labs/catalogue.ts';
import { gradeRun } from '#operator/labs/grade.ts';
import type { LabRun } from '#operator/labs/lab-state.ts';

const lab = parseLab('lab-x.yaml', `id: "x"
title: t
level: 2
minutes: 10
doc: docs/labs/x.md
objective: o
tasks: [a]
criteria: [c]
checks:
  - { id: verified, title: after the outage, latch: true, probe: { kind: held, check: outage }, hints: [h] }
  - { id: outage, title: the outage, latch: true, probe: { kind: answer, key: seen, accept: ["yes"] }, hints: [h] }
  - { id: cleared, title: after the check after the outage, probe: { kind: held, check: verified }, hints: [h] }
solve: [{ do: answer, key: seen, value: "yes" }]
`);

const run = (answers: Record<string, string>): LabRun => ({
  id: 'x', startedAt: new Date().toISOString(), choices: {}, baselines: {}, faults: [], restore: {}, speed: 1,
  answers, held: {}, hintsShown: {},
});

it('grades a check waiting for another that holds now as holding, along a chain, in one grading', async () => {
  const { results, held, grade } = await gradeRun(lab, run({ seen: 'yes' }), { targets: [] });
  expect(results.map((r) => [r.check.id, r.result.holds])).toEqual([['verified', true], ['outage', true], ['cleared', true]]);
  expect(Object.keys(held).sort()).toEqual(['outage', 'verified']);
  expect(grade).toMatchObject({ score: 1, passed: true });
});

it('still says what a check waits for when that one does not hold', async () => {
  const { results, held } = await gradeRun(lab, run({ seen: 'no' }), { targets: [] });
  expect(results.map((r) => [r.check.id, r.result.holds, r.result.reason])).toEqual([
    ['verified', false, 'outage has not held yet'],
    ['outage', false, 'seen=no is not it'],
    ['cleared', false, 'verified has not held yet'],
  ]);
  expect(held).toEqual({});
});
