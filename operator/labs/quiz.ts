// The Level 1 quiz: a bank of questions from handbook sections 1-3 and the glossary
// (labs/quiz/level-1.yaml), 20 drawn per attempt across as many sections as the bank has, 80 % to
// pass. A seed makes a draw repeatable, so an attempt can be read first and answered later
// (`tps quiz --questions --seed N`, then `--answers`).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { projectRoot } from '#platform/paths.ts';

const questionSchema = z.object({
  id: z.string().regex(/^q\d{3}$/),
  section: z.string().regex(/^(\d+(\.\d+)*|glossary)$/),
  question: z.string().min(1),
  choices: z.array(z.string().min(1)).length(4),
  answer: z.number().int().min(0).max(3),
  explain: z.string().min(1),
});
export type Question = z.infer<typeof questionSchema>;
const bankSchema = z.object({ questions: z.array(questionSchema).min(20) });

/** The handbook sections Level 1 covers (its curriculum: sections 1-3), and the glossary. */
export const quizSections: Readonly<Record<string, string>> = {
  '1.1': 'What is TPS and why it matters', '1.2': 'The six core principles', '1.3': 'How the principles work together',
  '1.4': 'Anti-patterns', '2.1': 'Dashboard overview', '2.2': 'Key dashboard panels', '2.3': 'Dashboard examples',
  '2.4': 'Dashboard monitoring schedule', '3.1': 'Core metrics glossary', '3.2': 'Metric relationships', glossary: 'docs/glossary.md',
};

export const quizRules = { questions: 20, minutes: 15, passAt: 0.8 } as const;
export const letters = ['a', 'b', 'c', 'd'] as const;

export function loadBank(file = path.join(projectRoot, 'labs', 'quiz', 'level-1.yaml')): Question[] {
  const parsed = bankSchema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${path.relative(projectRoot, file)}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data.questions;
}

/** mulberry32: a small seeded generator, so a seed always draws the same quiz. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function shuffled<T>(items: readonly T[], next: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Draws round-robin over the sections in a random order, so an attempt covers the handbook widely. */
export function drawQuiz(bank: readonly Question[], seed: number, count: number = quizRules.questions): Question[] {
  const next = random(seed);
  const bySection = new Map<string, Question[]>();
  for (const q of shuffled(bank, next)) bySection.set(q.section, [...(bySection.get(q.section) ?? []), q]);
  const queues = shuffled([...bySection.values()], next);
  const drawn: Question[] = [];
  while (drawn.length < Math.min(count, bank.length)) {
    for (const queue of queues) {
      const q = queue.shift();
      if (q && drawn.length < count) drawn.push(q);
    }
  }
  return drawn;
}

export type QuizResult = { score: number; passed: boolean; wrong: Array<{ number: number; question: Question; given: string | undefined }> };

/** Grades answers given as letters (a-d), in the order drawn; a missing answer is wrong. */
export function gradeQuiz(drawn: readonly Question[], given: ReadonlyArray<string | undefined>): QuizResult {
  const wrong = drawn.flatMap((question, i) => (given[i] === letters[question.answer] ? [] : [{ number: i + 1, question, given: given[i] }]));
  const score = (drawn.length - wrong.length) / drawn.length;
  return { score, passed: score >= quizRules.passAt, wrong };
}
