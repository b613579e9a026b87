import { randomInt } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import { z } from 'zod';
import { recordQuizAttempt } from '#operator/labs/certification.ts';
import { drawQuiz, gradeQuiz, letters, loadBank, quizRules, type Question } from '#operator/labs/quiz.ts';
import { loadConfig } from '#platform/config.ts';
import { stateDir } from '#platform/paths.ts';
import { CommandError, UsageError, parseFlags } from '../output.ts';

export const help = `
usage: tps quiz [--seed <n>]                       answer ${quizRules.questions} questions here (${quizRules.minutes} minutes)
       tps quiz --seed <n> --questions              print the questions of that draw, answer nothing
       tps quiz --seed <n> --answers a,c,b,...      grade ${quizRules.questions} answers (a-d, in order; "-" for none)

The Level 1 self-assessment of the certification program: ${quizRules.questions} questions drawn from a
bank written from the handbook's sections 1-3 and docs/glossary.md, ${quizRules.passAt * 100} % to pass.
Each wrong answer is explained with the section to read. Passing counts for \`tps cert\`.
The same seed draws the same questions. Answers are read one per line, from a terminal or a
pipe; an input that ends early leaves the rest unanswered, and one that ends before the first
answer grades and records nothing (exit 1). Exit 0 when passed.
`;

const flags = { seed: { type: 'string' }, questions: { type: 'boolean' }, answers: { type: 'string' } } as const;
const schema = z.object({
  seed: z.coerce.number().int().min(0).max(2 ** 31).optional(),
  questions: z.boolean().optional(),
  answers: z.string().regex(/^[a-d-](,[a-d-])*$/, 'expected letters a-d separated by commas, e.g. a,c,b').optional(),
});

function render(q: Question, n: number): string {
  return [`${n}. ${q.question}`, ...q.choices.map((c, i) => `   ${letters[i]}) ${c}`)].join('\n');
}

/** The answers given, in order; `ended` when the input ended (Ctrl-D, the end of a file) before the last question. */
async function ask(drawn: readonly Question[]): Promise<{ given: Array<string | undefined>; ended: boolean }> {
  // Lines are read through the iterator, not rl.question: answers piped in ahead of the prompts
  // (a file, a script) are kept, not dropped.
  const rl = createInterface({ input: process.stdin, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  const deadline = Date.now() + quizRules.minutes * 60_000;
  const given: Array<string | undefined> = [];
  let ended = false;
  try {
    for (const [i, q] of drawn.entries()) {
      if (Date.now() > deadline) { console.log(`time is up (${quizRules.minutes} minutes): the rest count as unanswered`); break; }
      process.stdout.write(`\n${render(q, i + 1)}\nanswer (a-d): `);
      const next = await lines.next();
      if (next.done) { ended = true; break; }
      const line = String(next.value).trim().toLowerCase();
      given.push((letters as readonly string[]).includes(line) ? line : undefined);
    }
  } finally {
    rl.close();
  }
  process.stdout.write('\n');
  return { given, ended };
}

/** Answers from --answers or asked here; an input that gives none is refused, not graded 0 %. */
async function answersOf(drawn: readonly Question[], answers: string | undefined): Promise<Array<string | undefined>> {
  if (answers) {
    const given = answers.split(',').map((a) => (a === '-' ? undefined : a));
    if (given.length !== drawn.length) throw new UsageError(`--answers has ${given.length} answers; the quiz has ${drawn.length}`);
    return given;
  }
  const { given, ended } = await ask(drawn);
  if (ended && given.length === 0) {
    throw new CommandError('the input ended before the first answer: nothing graded, nothing recorded. Answer at a terminal, pipe one letter per line, or give --answers a,c,b,...');
  }
  if (ended) console.log(`the input ended after ${given.length} of ${drawn.length} answers: the rest count as unanswered`);
  return given;
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, flags, schema);
  const seed = values.seed ?? randomInt(2 ** 31);
  const drawn = drawQuiz(loadBank(), seed);
  if (values.questions) {
    console.log(`Level 1 quiz, seed ${seed}: answer with tps quiz --seed ${seed} --answers <${drawn.length} letters>\n`);
    console.log(drawn.map(render).join('\n\n'));
    return 0;
  }
  const given = await answersOf(drawn, values.answers);
  const result = gradeQuiz(drawn, given);
  for (const w of result.wrong) {
    console.log(`${w.number}. wrong (${w.given ?? 'no answer'}; right: ${letters[w.question.answer]}) ${w.question.explain}`);
  }
  const percent = Math.round(result.score * 100);
  console.log(`Level 1 quiz (seed ${seed}): ${percent} %, ${result.passed ? 'PASSED' : `not passed (${quizRules.passAt * 100} % to pass)`}`);
  recordQuizAttempt(stateDir(loadConfig().stateDir), { at: new Date().toISOString(), seed, score: result.score, passed: result.passed });
  return result.passed ? 0 : 1;
}
