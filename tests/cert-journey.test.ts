// A learner's way through the certification program, natively, in one state folder: `tps lab
// list` with nothing started, the Level 1 quiz, every Level 2 lab and the exam solved and graded
// (timeline compressed), then `tps cert` saying Level 1 and Level 2 passed. The labs' own tests
// (labs*.test.ts, exam.test.ts) show each failing when nothing was done.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tps } from '#devenv/cli.ts';
import { startCliStack, type CliStack } from '#devenv/cli-stack.ts';
import { quickAutoscaler, untilPassed } from '#devenv/lab-runs.ts';
import { drawQuiz, letters, loadBank } from '#operator/labs/quiz.ts';
import { requirements } from '#operator/labs/certification.ts';

let run: CliStack;
let env: Record<string, string>;

beforeAll(async () => {
  run = await startCliStack({ ...quickAutoscaler, LOG_LEVEL: 'warn' });
  ({ env } = run);
}, 120_000);
afterAll(() => run?.stop());

const idOf = (id: string) => (id.startsWith('exam-') ? ['exam', id.slice('exam-'.length)] : ['lab', id]);

it('goes from lab list to cert with Level 1 and Level 2 passed', async () => {
  const list = await tps(['lab', 'list'], env);
  expect(list.stdout).toMatch(/2\.1 +2 +30 +System setup +not started/);
  expect((await tps(['cert'], env)).stdout).toContain('Level 2: not yet');

  const seed = 7;
  const right = drawQuiz(loadBank(), seed).map((q) => letters[q.answer] ?? 'a');
  expect((await tps(['quiz', '--seed', String(seed), '--answers', right.join(',')], env)).code).toBe(0);

  for (const id of requirements[2] ?? []) {
    const [command, which] = idOf(id) as [string, string];
    const at = command === 'exam' ? [command, which] : [command];
    const withId = (sub: string, ...rest: string[]) => (command === 'exam' ? [...at, sub, ...rest] : [...at, sub, which, ...rest]);
    const start = await tps(withId('start', '--speed', '10'), env);
    expect(start.code, `${id}: ${start.stderr}`).toBe(0);
    const solved = await tps(withId('solve'), env);
    expect(solved.code, `${id}: ${solved.stderr}${solved.stdout}`).toBe(0);
    await untilPassed(withId('check'), env);
    expect((await tps(withId('stop'), env)).code).toBe(0);
  }

  const cert = await tps(['cert'], env);
  expect(cert.stdout).toContain('Level 1: PASSED');
  expect(cert.stdout).toMatch(/Level 2: PASSED; done: lab 2\.1, lab 2\.2, lab 2\.3, lab 2\.4, lab 2\.5, lab 2\.6, exam 2/);
  expect((await tps(['lab', 'list'], env)).stdout).toMatch(/exam-2 +2 +120 +Level 2 practical exam: Monday morning +stopped \(best 100 %, passed\)/);
}, 420_000);
