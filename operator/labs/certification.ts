// Which levels a learner has passed, from what the state folder keeps: the quiz attempts (Level 1)
// and the best grade of every lab a level requires (Level 2: labs 2.1-2.6 and its exam; Level 3:
// labs 3.1-3.7 and its exam), each level after the one below it.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Lab } from './lab-schema.ts';
import { readRun } from './lab-state.ts';

const attemptSchema = z.object({ at: z.string(), seed: z.number(), score: z.number(), passed: z.boolean() });
export type QuizAttempt = z.infer<typeof attemptSchema>;

const quizFile = (stateDir: string) => path.join(stateDir, 'labs', 'quiz-level-1.json');

export function quizAttempts(stateDir: string): QuizAttempt[] {
  try {
    const parsed = z.array(attemptSchema).safeParse(JSON.parse(readFileSync(quizFile(stateDir), 'utf8')));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

export function recordQuizAttempt(stateDir: string, attempt: QuizAttempt): void {
  mkdirSync(path.dirname(quizFile(stateDir)), { recursive: true });
  writeFileSync(quizFile(stateDir), `${JSON.stringify([...quizAttempts(stateDir), attempt], null, 2)}\n`);
}

/** "lab 2.1", "exam 2": as the learner types them after `tps`. */
const named = (id: string) => (id.startsWith('exam-') ? `exam ${id.slice('exam-'.length)}` : `lab ${id}`);

/** What each level of the program requires (the program, ../shared/seeds/002): every lab and the exam. */
export const requirements: Readonly<Record<number, readonly string[]>> = {
  2: ['2.1', '2.2', '2.3', '2.4', '2.5', '2.6', 'exam-2'],
  3: ['3.1', '3.2', '3.3', '3.4', '3.5', '3.6', '3.7', 'exam-3'],
};

export type LevelStanding = { level: number; passed: boolean; done: string[]; missing: string[] };

export function standing(stateDir: string, labs: readonly Lab[]): LevelStanding[] {
  const best = quizAttempts(stateDir).reduce((top, a) => Math.max(top, a.score), -1);
  const level1: LevelStanding = best >= 0 && quizAttempts(stateDir).some((a) => a.passed)
    ? { level: 1, passed: true, done: [`quiz (best ${Math.round(best * 100)} %)`], missing: [] }
    : { level: 1, passed: false, done: [], missing: [best >= 0 ? `quiz (best ${Math.round(best * 100)} %, 80 % to pass)` : 'quiz (tps quiz)'] };
  const levels = [level1];
  for (const [level, ids] of Object.entries(requirements)) {
    const below = levels.at(-1) ?? level1;
    const available = new Set(labs.map((l) => l.id));
    const passed = ids.filter((id) => readRun(stateDir, id)?.bestGrade?.passed);
    const missing = ids.filter((id) => !passed.includes(id)).map((id) => `${named(id)}${available.has(id) ? '' : ' (not in this version yet)'}`);
    levels.push({ level: Number(level), passed: missing.length === 0 && below.passed, done: passed.map(named), missing: below.passed ? missing : [`Level ${below.level}`, ...missing] });
  }
  return levels;
}
