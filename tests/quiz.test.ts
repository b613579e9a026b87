// The Level 1 quiz through the real `tps quiz` and `tps cert`: a correct answer set passes and
// counts for Level 1, a poor one fails with each wrong answer explained, a seed draws the same
// questions, and the bank covers every handbook section of the curriculum.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { drawQuiz, letters, loadBank, quizRules, quizSections } from '#operator/labs/quiz.ts';
import { tps } from '#devenv/cli.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-quiz-'));
const env = { TPS_STATE_DIR: dir };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bank = loadBank();
const seed = 4242;
const drawn = drawQuiz(bank, seed);
const right = drawn.map((q) => letters[q.answer] ?? 'a');
const wrongAt = (i: number) => letters[((drawn[i]?.answer ?? 0) + 1) % 4] ?? 'a';

it('the bank has at least 60 questions covering every section of the curriculum, answers spread over a-d', () => {
  expect(bank.length).toBeGreaterThanOrEqual(60);
  const covered = new Set(bank.map((q) => q.section));
  expect([...covered].filter((s) => !(s in quizSections))).toEqual([]);
  expect(Object.keys(quizSections).filter((s) => !covered.has(s))).toEqual([]);
  expect(new Set(bank.map((q) => q.id)).size).toBe(bank.length);
  const positions = [0, 1, 2, 3].map((p) => bank.filter((q) => q.answer === p).length);
  expect(Math.min(...positions)).toBeGreaterThanOrEqual(bank.length / 8);
});

it('a seed draws the same questions, 20 of them, over many sections', () => {
  expect(drawQuiz(bank, seed).map((q) => q.id)).toEqual(drawn.map((q) => q.id));
  expect(drawn).toHaveLength(quizRules.questions);
  expect(new Set(drawn.map((q) => q.id)).size).toBe(quizRules.questions);
  expect(new Set(drawn.map((q) => q.section)).size).toBeGreaterThanOrEqual(Math.min(10, Object.keys(quizSections).length));
});

it('fails a poor answer set with each wrong answer explained, then passes a correct one and counts it for Level 1', async () => {
  expect((await tps(['cert'], env)).stdout).toContain('Level 1: not yet; to do: quiz (tps quiz)');
  const poor = right.map((r, i) => (i < 5 ? wrongAt(i) : r));   // 15 of 20 = 75 %
  const failed = await tps(['quiz', '--seed', String(seed), '--answers', poor.join(',')], env);
  expect(failed.code).toBe(1);
  expect(failed.stdout).toContain('75 %, not passed (80 % to pass)');
  expect(failed.stdout).toContain(`1. wrong (${wrongAt(0)}; right: ${right[0]}) ${drawn[0]?.explain}`);

  const passed = await tps(['quiz', '--seed', String(seed), '--answers', right.join(',')], env);
  expect(passed.code).toBe(0);
  expect(passed.stdout).toContain(`Level 1 quiz (seed ${seed}): 100 %, PASSED`);
  const cert = await tps(['cert'], env);
  expect(cert.code).toBe(0);
  expect(cert.stdout).toContain('Level 1: PASSED; done: quiz (best 100 %)');
  expect(cert.stdout).toContain('Level 2: not yet; to do: lab 2.1, lab 2.2, lab 2.3, lab 2.4, lab 2.5, lab 2.6, exam 2');
  // Level 3 comes after Level 2, and says which of its labs this version does not have yet.
  expect(cert.stdout).toContain('Level 3: not yet; to do: Level 2, lab 3.1, lab 3.2, lab 3.3, lab 3.4, lab 3.5, lab 3.6, lab 3.7, exam 3');
});

it('refuses malformed answers and a wrong count', async () => {
  const bad = await tps(['quiz', '--seed', '1', '--answers', 'a,e'], env);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('expected letters a-d separated by commas');
  const short = await tps(['quiz', '--seed', '1', '--answers', 'a,b'], env);
  expect(short.code).toBe(2);
  expect(short.stderr).toContain('--answers has 2 answers; the quiz has 20');
});

it('answers interactively from stdin line by line', async () => {
  const { spawnSync } = await import('node:child_process');
  const run = spawnSync(path.join(import.meta.dirname, '..', 'bin', 'tps'), ['quiz', '--seed', String(seed)], { input: `${right.join('\n')}\n`, env: { ...process.env, ...env }, encoding: 'utf8' });
  expect(run.status).toBe(0);
  expect(run.stdout).toContain('1. ');
  expect(run.stdout).toContain('100 %, PASSED');
});

it('records nothing from an input that ends before the first answer, and says when one ends early', async () => {
  const { spawnSync } = await import('node:child_process');
  const quiz = (input: string, state: string) => spawnSync(path.join(import.meta.dirname, '..', 'bin', 'tps'), ['quiz', '--seed', String(seed)], { input, env: { ...process.env, TPS_STATE_DIR: state }, encoding: 'utf8' });
  const state = mkdtempSync(path.join(os.tmpdir(), 'tps-quiz-empty-'));
  try {
    const empty = quiz('', state);
    expect(empty.status).toBe(1);
    expect(empty.stderr).toContain('the input ended before the first answer: nothing graded, nothing recorded');
    expect(empty.stdout).not.toContain('%');
    expect((await tps(['cert'], { TPS_STATE_DIR: state })).stdout).toContain('Level 1: not yet; to do: quiz (tps quiz)');
    const early = quiz(`${right.slice(0, 3).join('\n')}\n`, state);
    expect(early.status).toBe(1);
    expect(early.stdout).toContain('the input ended after 3 of 20 answers: the rest count as unanswered');
    expect(early.stdout).toContain('15 %, not passed');
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});
