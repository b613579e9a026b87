// What a learner's lab run keeps between commands, one file per lab in the state folder
// (.tps/labs/<id>.json): when it started, the random choices it made (the truth answers are
// checked against), counter baselines, the faults it set (so stop clears exactly those), the
// learner's answers and the last grade.
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** Labs shorten their timeline up to 60 times; an exam day up to 720 times (its 6 hours in 30 s, a rehearsal). */
export const maxSpeed = 720;

const gradeSchema = z.object({ at: z.string(), score: z.number(), passed: z.boolean() });

const runSchema = z.object({
  id: z.string(),
  startedAt: z.string(),
  stoppedAt: z.string().optional(),
  choices: z.record(z.string(), z.string()),
  baselines: z.record(z.string(), z.number()),
  faults: z.array(z.object({ target: z.string(), fault: z.string() })),
  /** What the setup changed in tps_control and stop gives back (the autoscaler as it was). */
  restore: z.object({ autoscaler: z.boolean().optional(), caps: z.array(z.string()).optional() }).default({}),
  /** `--speed N`: the lab's own timeline (its loads, its waits) runs N times faster. */
  speed: z.number().min(1).max(maxSpeed).default(1),
  /** An exam day's proctor, running in the background (operator/exam/proctor.ts). */
  proctor: z.object({ pid: z.number().int(), log: z.string() }).optional(),
  answers: z.record(z.string(), z.string()),
  /** Latched checks that have held: when, and what they measured then. */
  held: z.record(z.string(), z.object({ at: z.string(), measured: z.string().optional() })).default({}),
  /** How far up each check's hint ladder the learner has climbed. */
  hintsShown: z.record(z.string(), z.number()),
  lastGrade: gradeSchema.optional(),
  /** The best grade of any check, kept when the lab is stopped (`tps cert` reads it). */
  bestGrade: gradeSchema.optional(),
});
export type LabRun = z.infer<typeof runSchema>;
export type Grade = z.infer<typeof gradeSchema>;

export const labsFolder = (stateDir: string) => path.join(stateDir, 'labs');

/** A file the learner saves for a lab to read (lab 3.3's dashboard), in the labs state folder:
 * .tps/labs/ natively, the same folder in compose. */
export const learnerFile = (stateDir: string, name: string) => path.join(labsFolder(stateDir), name);
const runFile = (stateDir: string, id: string) => path.join(labsFolder(stateDir), `${id}.json`);

export function readRun(stateDir: string, id: string): LabRun | undefined {
  let text: string;
  try { text = readFileSync(runFile(stateDir, id), 'utf8'); } catch { return undefined; }
  const parsed = runSchema.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : undefined;
}

/** Whole or not at all (a temp file renamed into place): the exam's proctor reads the run twice a
 * second while the candidate's commands write it. */
export function writeRun(stateDir: string, run: LabRun): void {
  mkdirSync(labsFolder(stateDir), { recursive: true });
  const file = runFile(stateDir, run.id);
  writeFileSync(`${file}.${process.pid}.tmp`, `${JSON.stringify(run, null, 2)}\n`);
  renameSync(`${file}.${process.pid}.tmp`, file);
}

/** The lab in progress (started, not stopped), if any: one lab runs at a time. */
export function activeRun(stateDir: string): LabRun | undefined {
  let files: string[];
  try { files = readdirSync(labsFolder(stateDir)); } catch { return undefined; }
  return files.map((f) => readRun(stateDir, f.replace(/\.json$/, ''))).find((r) => r && !r.stoppedAt);
}

export function recordGrade(run: LabRun, grade: Grade): LabRun {
  const best = run.bestGrade && run.bestGrade.score >= grade.score ? run.bestGrade : grade;
  return { ...run, lastGrade: grade, bestGrade: best };
}
