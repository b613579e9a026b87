import { main as labMain } from './lab.ts';
import { UsageError } from '../output.ts';

export const help = `
usage: tps exam 2 [start|status|hint|answer|check|solve|report|stop] [args]

The Level 2 practical exam, "Monday morning after a weekend of high load" (docs/labs/exam-2.md):
\`tps exam 2\` (= start) stages an incident drawn at random, with its weekend history in
Prometheus (when it runs) and its residue in the live system. Then, as for a lab:

  tps exam 2 answer abnormal=<metric>,<metric>,...   the metrics that are abnormal
  tps exam 2 answer by=<name>                         who made the change behind it (logs, audit events)
  tps exam 2 answer cause=<incident>                  the root cause
  tps exam 2 answer recommendations="..."             how to prevent it (15 words at least)
  tps exam 2 check                                    grade: 5 parts of 20 %, 80 % to pass
  tps exam 2 report > report.md                       says which parts a machine graded, which a person must

It is the lab "exam-2": \`tps lab status exam-2\` is the same as \`tps exam 2 status\`.
`;

const exams: Readonly<Record<string, string>> = { 2: 'exam-2' };

export async function main(argv: string[]): Promise<number> {
  const [level, sub = 'start', ...rest] = argv;
  const id = level === undefined ? undefined : exams[level];
  if (!id) throw new UsageError(`which exam? The practical exams are: ${Object.keys(exams).join(', ')} (tps exam 2)`);
  return labMain([sub, id, ...rest]);
}
