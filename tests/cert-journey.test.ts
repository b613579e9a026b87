// A learner's way into the certification program, natively, in one state folder: `tps lab list`
// with nothing started, the Level 1 quiz, a lab solved and graded, and `tps cert` counting it.
// Every lab's own test solves it and shows it failing when nothing was done (labs*.test.ts,
// lab-recovery.test.ts, exam.test.ts); certification.test.ts covers which levels pass.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tps } from '#devenv/cli.ts';
import { startCliStack, type CliStack } from '#devenv/cli-stack.ts';
import { untilPassed } from '#devenv/lab-runs.ts';
import { drawQuiz, letters, loadBank } from '#operator/labs/quiz.ts';

let run: CliStack;
let env: Record<string, string>;

beforeAll(async () => {
  run = await startCliStack({ LOG_LEVEL: 'warn' });
  ({ env } = run);
}, 120_000);
afterAll(() => run?.stop());

it('goes from lab list to cert: Level 1 passed, then a lab counted toward Level 2', async () => {
  const list = await tps(['lab', 'list'], env);
  expect(list.stdout).toMatch(/2\.1 +2 +30 +System setup +not started/);
  expect((await tps(['cert'], env)).stdout).toContain('Level 1: not yet');

  const seed = 7;
  const right = drawQuiz(loadBank(), seed).map((q) => letters[q.answer] ?? 'a');
  expect((await tps(['quiz', '--seed', String(seed), '--answers', right.join(',')], env)).code).toBe(0);

  expect((await tps(['lab', 'start', '2.1'], env)).code).toBe(0);
  const solved = await tps(['lab', 'solve', '2.1'], env);
  expect(solved.code, solved.stderr + solved.stdout).toBe(0);
  await untilPassed(['lab', 'check', '2.1'], env);
  expect((await tps(['lab', 'stop', '2.1'], env)).code).toBe(0);

  const cert = await tps(['cert'], env);
  expect(cert.code).toBe(0);
  expect(cert.stdout).toContain('Level 1: PASSED');
  expect(cert.stdout).toContain('Level 2: not yet; done: lab 2.1; to do: lab 2.2, lab 2.3, lab 2.4, lab 2.5, lab 2.6, exam 2');
  expect(cert.stdout).toContain('Level 3: not yet; to do: Level 2, lab 3.1');
  expect((await tps(['lab', 'list'], env)).stdout).toMatch(/2\.1 +2 +30 +System setup +stopped \(best 100 %, passed\)/);
  // A dozen tps commands and a lab solved: a deadline against a hang, not a speed goal.
}, 120_000);
