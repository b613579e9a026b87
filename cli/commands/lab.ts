import { z } from 'zod';
import { BackfillError } from '#operator/exam/backfill.ts';
import { labCatalogue, findLab } from '#operator/labs/catalogue.ts';
import { answerLab, LabError, nextHint, requireRun, startLab, stopLab, type LabStack } from '#operator/labs/engine.ts';
import { needsNats, solveLab } from '#operator/labs/solve.ts';
import { gradeLab } from '#operator/labs/grade.ts';
import { gatherEvidence } from '#operator/labs/evidence.ts';
import type { Lab } from '#operator/labs/lab-schema.ts';
import { maxSpeed, readRun } from '#operator/labs/lab-state.ts';
import { nativeTargets, parseTargets } from '#operator/status/collect.ts';
import { openChaosControl } from '#chaos/control-plane.ts';
import { createLogger } from '#platform/logger.ts';
import { loadConfig } from '#platform/config.ts';
import { controlOperations } from '#platform/control/operations.ts';
import { openControlStore } from '#platform/control/store.ts';
import { recentEvents } from '#platform/nats/recent-events.ts';
import { openDlqOperations } from '#platform/dlq/operations.ts';
import { parameterOperations } from '#platform/params/operations.ts';
import { stageWeekend, weekendWindow, type StageOptions } from '#operator/exam/stage.ts';
import { stageGrowth } from '#operator/capacity/stage.ts';
import { stageDeadLetters } from '#operator/exam/dead-letters.ts';
import { canarySources } from '#operator/canary/sources.ts';
import type { NatsConnection } from '#platform/nats/connect.ts';
import { stateDir } from '#platform/paths.ts';
import { composeExamParts, examParts } from '../exam-day.ts';
import { interruptible } from '../interrupts.ts';
import { dayLines } from '#operator/exam/day-report.ts';
import { checkLines, gradeLine, labBrief, labList, labReport } from '../lab-format.ts';
import { CommandError, UsageError, parseFlags } from '../output.ts';
import { operator, withNats } from '../session.ts';

export const help = `
usage: tps lab list
       tps lab start <lab> [--speed N] [--choose name=value]   set the lab up and print its brief
       tps lab status <lab> [--watch]    each check: pass, or why not yet (--watch: every 2 s)
       tps lab hint <lab> <check>   the next hint (a nudge, where to look, the answer)
       tps lab answer <lab> key=value ...   answer what the lab asks (e.g. bottleneck=service-b)
       tps lab check <lab>      grade: pass or not, score; exit 0 only when passed
       tps lab solve <lab>      do the learner's part (demos, tests)
       tps lab report <lab>     a Markdown report: tasks, checks with measured values, trace ids, answers, score
       tps lab stop <lab>       clear what the lab set up (the run and its grades are kept)

The labs of the certification program (Level 2 and 3), each a file in labs/ with its page in
docs/labs/. A lab runs against the stack of this checkout (\`make up\`, or in compose the tools
container: TPS_TARGETS). One lab runs at a time. A start that fails part way (a history it
cannot stage, NATS going away) undoes what it had set: faults, caps, the autoscaler. Ctrl-C (or
SIGTERM) of a solve ends its loads and stops it where it is (exit 130 or 143): what its steps did
stays, the lab keeps running. Also: make lab LAB=2.1.

  --speed N   (start) the lab's own timeline N times shorter, 1-60 (an exam day up to 720): the loads \`tps lab solve\`
              runs; the system's reaction times are its configuration (AUTOSCALER_*, BREAKER_*)
  --choose name=value,...   (start) fix a random choice instead of drawing it (an instructor's
              demo, or practice: --choose incident=capped-autoscaler for the exam)
  --watch     (status) re-run the checks every 2 s until every check holds or Ctrl-C
`;

const subcommands = ['list', 'start', 'status', 'hint', 'answer', 'check', 'solve', 'report', 'stop'] as const;

function lab(id: string | undefined): Lab {
  if (!id) throw new UsageError(`which lab? One of: ${labCatalogue().map((l) => l.id).join(', ')}`);
  const found = findLab(id);
  if (!found) throw new UsageError(`unknown lab "${id}"; labs are: ${labCatalogue().map((l) => l.id).join(', ')}`);
  return found;
}

function stackOf(): LabStack {
  const config = loadConfig();
  const targets = config.operator.targets ? parseTargets(config.operator.targets) : nativeTargets(config.stateDir);
  const prometheusUrl = config.operator.prometheusUrl;
  const stage = { stateDir: stateDir(config.stateDir), prometheusUrl, handoffDir: config.operator.historyDir, instanceOf: instanceOf(targets) };
  return {
    stateDir: stateDir(config.stateDir), targets, by: operator(), prometheusUrl, progress: (line) => console.error(line),
    stageHistory: (kind, incident, progress) => (kind === 'growth' ? stageGrowth : (o: StageOptions) => stageWeekend(incident, o))({ ...stage, ...(progress ? { progress } : {}) }),
  };
}

async function natsParts(nc: NatsConnection): Promise<Omit<LabStack, 'stateDir' | 'targets' | 'by'>> {
  const config = loadConfig();
  const store = await openControlStore(nc);
  const [control, params] = [controlOperations(nc, store, config.autoscaler.enabled), parameterOperations(nc, store)];
  return {
    chaos: openChaosControl({ config, logger: createLogger('tps', { ...config, log: { level: 'warn' } }), nc }),
    control, params,
    dlq: await openDlqOperations(nc),
    // The levers `tps tune` and lab 3.2's grader set, as the commands that own them do.
    tuning: { nc, config, control: store, params, operations: control },
    canary: canarySources(config, nc, store),
    stageDeadLetters: (spec, by) => { const { end } = weekendWindow(); return stageDeadLetters(nc, spec, { from: new Date(end.getTime() - 24 * 3_600_000), to: end }, by); },
    events: (subject, since) => recentEvents(nc, subject, { sinceMs: Date.now() - since.getTime() + 1_000, limit: 10_000 }),
    // An exam day's proctor: a process beside the native supervisor, or in compose a container of its own.
    exam: (config.operator.targets ? composeExamParts : examParts)(nc, stateDir(config.stateDir)),
  };
}

/** A role's `instance` label in Prometheus: the host:port it is scraped at. */
const instanceOf = (targets: readonly { role: string; url: string }[]) => (role: string) => {
  const target = targets.find((t) => t.role === role);
  return target ? new URL(target.url).host : undefined;
};

/** Runs with NATS (chaos store, control plane, events) when the lab needs it, without otherwise. */
export async function withStack<T>(target: Lab, run: (stack: LabStack) => Promise<T>): Promise<T> {
  if (!needsNats(target)) return run(stackOf());
  return withNats('lab', async ({ nc }) => {
    const parts = await natsParts(nc);
    try {
      return await run({ ...stackOf(), ...parts });
    } finally {
      parts.dlq?.close();
    }
  });
}

async function grade(target: Lab, stack: LabStack) {
  requireRun(target, stack.stateDir, { active: false });
  return gradeLab(target, stack);
}

type LabFlags = { speed?: number | undefined; watch?: boolean | undefined; choose?: Record<string, string> | undefined };

/** `status --watch`: the checks every 2 s until they all hold (or Ctrl-C). */
async function watchChecks(target: Lab): Promise<number> {
  for (;;) {
    const { grading } = await withStack(target, (stack) => grade(target, stack));
    if (process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
    console.log(`${new Date().toLocaleTimeString()}  lab ${target.id}\n${checkLines(grading)}\n${gradeLine(target, grading)}`);
    if (grading.results.every((r) => r.result.holds)) return 0;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

/** `solve`: the learner's part, step by step; Ctrl-C stops it where it is and says so. */
async function solve(target: Lab): Promise<number> {
  // Each step's line says when it ended: a long solve (an exam day) shows where its time went.
  const began = Date.now();
  const stop = interruptible({ said: (name) => console.log(`\n${name}: stopping the solve (its loads end now; Ctrl-C again to quit at once)`) });
  try {
    const outcome = await withStack(target, (stack) => solveLab(target, stack, (line) => console.log(`${String(Math.round((Date.now() - began) / 1000)).padStart(4)} s  ${line}`), stop.signal));
    if (!outcome.stopped) return 0;
    console.log(`solve stopped after ${outcome.done} of ${outcome.of} steps. What those steps did stays done and lab ${target.id} is still running: finish it by hand (\`tps lab status ${target.id}\` shows the checks), or \`tps lab stop ${target.id}\` to clear what it set up.`);
    return stop.status();
  } finally {
    stop.dispose();
  }
}

async function dispatch(sub: (typeof subcommands)[number], args: string[], flags: LabFlags): Promise<number> {
  if (sub === 'list') {
    const labs = labCatalogue();
    const dir = stackOf().stateDir;
    console.log(labList(labs, new Map(labs.map((l) => [l.id, readRun(dir, l.id)]))));
    return 0;
  }
  const target = lab(args[0]);
  switch (sub) {
    case 'start': {
      const run = await withStack(target, (stack) => startLab(target, stack, { speed: flags.speed ?? 1, progress: (line) => console.log(line), ...(flags.choose ? { chosen: flags.choose } : {}) }));
      console.log(labBrief(target));
      if (run.speed > 1) console.log(`\n(timeline ${run.speed}x shorter: \`tps lab solve\` runs its loads ${run.speed} times shorter)`);
      return 0;
    }
    case 'status':
    case 'check': {
      if (sub === 'status' && flags.watch) return watchChecks(target);
      const { grading } = await withStack(target, (stack) => grade(target, stack));
      console.log(`${checkLines(grading)}\n${gradeLine(target, grading)}`);
      return sub === 'status' || grading.grade.passed ? 0 : 1;
    }
    case 'hint': {
      if (!args[1]) throw new UsageError(`which check? One of: ${target.checks.map((c) => c.id).join(', ')}`);
      const { hint, rung, of } = nextHint(target, stackOf().stateDir, args[1]);
      console.log(`hint ${rung}/${of}: ${hint}`);
      return 0;
    }
    case 'answer': {
      if (args.length < 2) throw new UsageError(`tps lab answer ${target.id} key=value ...`);
      const run = answerLab(target, stackOf().stateDir, args.slice(1));
      console.log(`answers recorded: ${Object.entries(run.answers).map(([k, v]) => `${k}=${v}`).join(', ')}`);
      return 0;
    }
    case 'solve':
      return solve(target);
    case 'report': {
      const report = await withStack(target, async (stack) => {
        const { run, grading } = await grade(target, stack);
        const evidence = await gatherEvidence(stack, new Date(run.startedAt));
        const day = target.setup.timeline && stack.events ? await dayLines(target.setup.timeline, run, stack.events, stack.prometheusUrl) : [];
        return labReport(target, run, grading, evidence, day);
      });
      console.log(report);
      return 0;
    }
    case 'stop': {
      await withStack(target, (stack) => stopLab(target, stack));
      console.log(`lab ${target.id} stopped; what it set up is cleared (its grades are kept: tps lab list)`);
      return 0;
    }
  }
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { speed: { type: 'string' }, watch: { type: 'boolean' }, choose: { type: 'string' } }, z.object({
    choose: z.string().regex(/^[\w.-]+=[\w.-]+(,[\w.-]+=[\w.-]+)*$/, 'expected name=value[,name=value]').transform((s) => Object.fromEntries(s.split(',').map((p) => p.split('=') as [string, string]))).optional(),
    speed: z.string().regex(/^\d+$/, 'expected a whole number').transform(Number).pipe(z.number().min(1).max(maxSpeed)).optional(),
    watch: z.boolean().optional(),
  }), { positionals: true });
  const [sub, ...args] = positionals;
  if (!sub || !(subcommands as readonly string[]).includes(sub)) throw new UsageError(`expected one of: ${subcommands.join(', ')}`);
  if ((values.speed !== undefined || values.choose) && sub !== 'start') throw new UsageError('--speed and --choose go with start: tps lab start <lab> --speed N --choose name=value');
  if (values.watch && sub !== 'status') throw new UsageError('--watch goes with status: tps lab status <lab> --watch');
  try {
    return await dispatch(sub as (typeof subcommands)[number], args, values);
  } catch (err) {
    // A history that could not be staged: the reason, no stack trace (nothing of the lab was set).
    if (err instanceof LabError || err instanceof BackfillError) throw new CommandError(err.message);
    throw err;
  }
}
