import { findLab } from '#operator/labs/catalogue.ts';
import { BackfillError } from '#operator/exam/backfill.ts';
import { evaluateHandedOffRules } from '#operator/exam/handoff.ts';
import { loadConfig } from '#platform/config.ts';
import { LabError } from '#operator/labs/engine.ts';
import { main as labMain, withStack } from './lab.ts';
import { ack, proctor } from '../exam-day.ts';
import { CommandError, UsageError } from '../output.ts';
import { withNats } from '../session.ts';

export const help = `
usage: tps exam 2 [start|status|hint|answer|check|solve|report|stop] [args]
       tps exam 3 [start|status|ack|hint|answer|check|solve|report|stop] [args] [--speed N]

The Level 2 practical exam, "Monday morning after a weekend of high load" (docs/labs/exam-2.md):
\`tps exam 2\` (= start) stages an incident drawn at random, with its weekend history in
Prometheus (when it runs) and its residue in the live system. Then, as for a lab:

  tps exam 2 answer abnormal=<metric>,<metric>,...   the metrics that are abnormal
  tps exam 2 answer by=<name>                         who made the change behind it (logs; audit events: tps events)
  tps exam 2 answer cause=<incident>                  the root cause
  tps exam 2 answer recommendations="..."             how to prevent it (15 words at least)
  tps exam 2 check                                    grade: 5 parts of 20 %, 80 % to pass
  tps exam 2 report > report.md                       says which parts a machine graded, which a person must

The Level 3 practical exam, "Friday before a holiday weekend" (docs/labs/exam-3.md), natively:
\`tps exam 3 start [--speed N]\` begins the day at 2 PM: twice the normal load until 8 PM, and a
failure every hour from 3 PM, each staying until the day ends; only your levers make the system
cope. --speed compresses the day (6: an hour in 10 minutes; 720: the day in 30 s, a rehearsal).
For each failure:

  tps exam 3 ack ["what I see"]          detect it (or tps exam ack): every failure begun and not yet acknowledged
                                          is detected now (15 exam minutes: in time)
  tps exam 3 answer cause-<failure>=<role>   the root cause: the role where it is
  (fix it with a real lever: tps scale, tps config set, tps restart, tps scale --replicas)
  tps exam 3 answer prevent-<failure>="..."  how to keep it from coming back (8 words at least)
  tps exam 3 status | check | report     verification is measured while the failure stays

Failures: downstream (3 PM), crash (4 PM), database (5 PM), leak (6 PM), bandwidth (7 PM).
Graded with the program's weights: detection 15 %, root cause 20 %, fixing 25 %, verification
20 %, prevention 20 %; 80 % to pass. \`tps exam 3 stop\` ends the day early.

Each exam is a lab ("exam-2", "exam-3"): \`tps lab status exam-3\` is the same as \`tps exam 3 status\`.
`;

const exams: Readonly<Record<string, string>> = { 2: 'exam-2', 3: 'exam-3' };

export async function main(argv: string[]): Promise<number> {
  const [level, sub = 'start', ...rest] = argv;
  // `tps exam proctor <lab>`: the day's proctor, which `tps exam 3 start` leaves running.
  if (level === 'proctor') return runProctorCommand(sub);
  // `tps exam history-rules`: in compose, the recording rules over a handed-off history, which
  // bin/tps runs in a tools container between Prometheus' restarts (operator/exam/handoff.ts).
  if (level === 'history-rules') return historyRulesCommand();
  // `tps exam ack`: the exam day in progress (only the Level 3 exam has one).
  if (level === 'ack') return ackCommand('exam-3', argv.slice(1));
  const id = level === undefined ? undefined : exams[level];
  if (!id) throw new UsageError(`which exam? The practical exams are: ${Object.keys(exams).join(', ')} (tps exam 2, tps exam 3)`);
  if (sub === 'ack') return ackCommand(id, rest);
  return labMain([sub, id, ...rest]);
}

async function ackCommand(id: string, rest: readonly string[]): Promise<number> {
  const lab = findLab(id);
  if (!lab?.setup.timeline) throw new UsageError(`exam ${id} has no failures to acknowledge`);
  if (rest.length > 1) throw new UsageError('tps exam 3 ack ["what you see", in quotes]');
  try {
    const acked = await withStack(lab, (stack) => ack(lab, stack, rest[0]));
    if (acked.length === 0) {
      console.log('Nothing new to acknowledge: no failure has begun since your last ack (a false alarm is not recorded).');
      return 0;
    }
    for (const a of acked) {
      console.log(`detected: ${a.failure}, ${Math.round(a.detectedMs / 60_000)} exam minutes after it began (${a.inTime ? 'in time' : 'late'})${a.alerts.length ? `; firing: ${a.alerts.join(', ')}` : ''}`);
    }
    return 0;
  } catch (err) {
    // A history that could not be staged: the reason, no stack trace (nothing of the lab was set).
    if (err instanceof LabError || err instanceof BackfillError) throw new CommandError(err.message);
    throw err;
  }
}

async function runProctorCommand(id: string): Promise<number> {
  const lab = findLab(id);
  if (!lab?.setup.timeline) throw new UsageError(`"${id}" is not an exam day`);
  await withNats('proctor', ({ nc }) => withStack(lab, (stack) => proctor(lab, stack, nc)));
  return 0;
}

async function historyRulesCommand(): Promise<number> {
  const { operator: { historyDir, prometheusUrl } } = loadConfig();
  if (!historyDir) throw new UsageError('tps exam history-rules evaluates the recording rules over a history handed off in compose: TPS_HISTORY_DIR is not set');
  try {
    console.log(await evaluateHandedOffRules(historyDir, prometheusUrl, (line) => console.log(line)));
    return 0;
  } catch (err) {
    if (err instanceof BackfillError) throw new CommandError(err.message);
    throw err;
  }
}
