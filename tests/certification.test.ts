// Which levels `tps cert` says are passed, from the records the lab engine keeps (recordGrade,
// writeRun: the same writers `tps lab check` uses): a level needs every one of its labs and its
// exam passed, and the level below; a failed grade counts for nothing. The whole way through real
// labs is cert-journey.test.ts (Level 1 and a lab) and each lab's own test.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { labCatalogue } from '#operator/labs/catalogue.ts';
import { recordQuizAttempt, requirements, standing } from '#operator/labs/certification.ts';
import { recordGrade, writeRun, type LabRun } from '#operator/labs/lab-state.ts';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function stateWith(grades: Record<string, number>, quiz: number | undefined): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-cert-'));
  dirs.push(dir);
  if (quiz !== undefined) recordQuizAttempt(dir, { at: new Date().toISOString(), seed: 1, score: quiz, passed: quiz >= 0.8 });
  for (const [id, score] of Object.entries(grades)) {
    const run: LabRun = { id, startedAt: new Date().toISOString(), choices: {}, baselines: {}, faults: [], restore: {}, speed: 1, answers: {}, held: {}, hintsShown: {} };
    writeRun(dir, recordGrade(run, { at: new Date().toISOString(), score, passed: score >= 0.8 }));
  }
  return dir;
}

const line = (dir: string, level: number) => standing(dir, labCatalogue()).find((l) => l.level === level);
const every = (level: number, score: number) => Object.fromEntries((requirements[level] ?? []).map((id) => [id, score]));

it('passes Level 2 with the quiz, every Level 2 lab and its exam; Level 3 then lists its own', () => {
  const dir = stateWith(every(2, 1), 1);
  expect(line(dir, 1)?.passed).toBe(true);
  expect(line(dir, 2)).toMatchObject({ passed: true, done: ['lab 2.1', 'lab 2.2', 'lab 2.3', 'lab 2.4', 'lab 2.5', 'lab 2.6', 'exam 2'], missing: [] });
  expect(line(dir, 3)?.passed).toBe(false);
  expect(line(dir, 3)?.missing).toEqual(expect.arrayContaining(['lab 3.1', 'lab 3.2', 'lab 3.6', 'lab 3.7', 'exam 3']));
});

it('passes Level 3 with Level 2, every Level 3 lab and its exam', () => {
  const dir = stateWith({ ...every(2, 1), ...every(3, 1) }, 1);
  expect(line(dir, 3)).toMatchObject({ passed: true, missing: [] });
  expect(line(dir, 3)?.done).toContain('exam 3');
  const failedDay = stateWith({ ...every(2, 1), ...every(3, 1), 'exam-3': 0.75 }, 1);
  expect(line(failedDay, 3)).toMatchObject({ passed: false, missing: ['exam 3'] });
});

it('does not count a failed grade, and asks for the level below first', () => {
  const failedExam = stateWith({ ...every(2, 1), 'exam-2': 0.6 }, 1);
  expect(line(failedExam, 2)).toMatchObject({ passed: false, missing: ['exam 2'] });
  const noQuiz = stateWith({ ...every(2, 1), ...every(3, 1) }, 0.5);
  expect(line(noQuiz, 2)?.missing[0]).toBe('Level 1');
  expect(line(noQuiz, 3)).toMatchObject({ passed: false, missing: ['Level 2'] });
  // Level 1 passed and every Level 3 lab passed are not Level 3 while Level 2 misses its exam.
  const skipped = stateWith({ ...every(2, 1), 'exam-2': 0.5, ...every(3, 1) }, 1);
  expect(line(skipped, 3)).toMatchObject({ passed: false, missing: ['Level 2'] });
});
