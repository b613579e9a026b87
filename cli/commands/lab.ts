import { z } from 'zod';
import { labCatalogue, findLab } from '#operator/labs/catalogue.ts';
import { answerLab, LabError, nextHint, requireRun, startLab, stopLab, type LabStack } from '#operator/labs/engine.ts';
import { needsChaos, solveLab } from '#operator/labs/solve.ts';
import { gradeRun } from '#operator/labs/grade.ts';
import type { Lab } from '#operator/labs/lab-schema.ts';
import { readRun, recordGrade, writeRun } from '#operator/labs/lab-state.ts';
import { nativeTargets, parseTargets } from '#operator/status/collect.ts';
import { openChaosStore } from '#platform/chaos/store.ts';
import { loadConfig } from '#platform/config.ts';
import { stateDir } from '#platform/paths.ts';
import { checkLines, gradeLine, labBrief, labList, labReport } from '../lab-format.ts';
import { CommandError, UsageError, parseFlags } from '../output.ts';
import { operator, withNats } from '../session.ts';

export const help = `
usage: tps lab list
       tps lab start <lab>      set the lab up (faults, random choices) and print its brief
       tps lab status <lab>     each check: pass, or why not yet
       tps lab hint <lab> <check>   the next hint (a nudge, where to look, the answer)
       tps lab answer <lab> key=value ...   answer what the lab asks (e.g. bottleneck=service-b)
       tps lab check <lab>      grade: pass or not, score; exit 0 only when passed
       tps lab solve <lab>      do the learner's part (demos, tests)
       tps lab report <lab>     a Markdown report: tasks, checks with measured values, answers, score
       tps lab stop <lab>       clear what the lab set up (the run and its grades are kept)

The labs of the certification program (Level 2 and 3), each a file in labs/ with its page in
docs/labs/. A lab runs against the stack of this checkout (\`make up\`, or in compose the tools
container: TPS_TARGETS). One lab runs at a time. Also: make lab LAB=2.1.
`;

const subcommands = ['list', 'start', 'status', 'hint', 'answer', 'check', 'solve', 'report', 'stop'] as const;

function lab(id: string | undefined): Lab {
  if (!id) throw new UsageError(`which lab? One of: ${labCatalogue().map((l) => l.id).join(', ')}`);
  const found = findLab(id);
  if (!found) throw new UsageError(`unknown lab "${id}"; labs are: ${labCatalogue().map((l) => l.id).join(', ')}`);
  return found;
}

function stackOf(chaos?: LabStack['chaos']): LabStack {
  const config = loadConfig();
  const targets = config.operator.targets ? parseTargets(config.operator.targets) : nativeTargets(config.stateDir);
  return { stateDir: stateDir(config.stateDir), targets, ...(chaos ? { chaos } : {}), by: operator() };
}

/** Runs with the chaos store when the lab sets faults (it needs NATS), without NATS otherwise. */
async function withStack<T>(target: Lab, run: (stack: LabStack) => Promise<T>): Promise<T> {
  if (!needsChaos(target)) return run(stackOf());
  return withNats('lab', async ({ nc }) => run(stackOf(await openChaosStore(nc))));
}

async function grade(target: Lab, stack: LabStack) {
  const run = requireRun(target, stack.stateDir, { active: false });
  const grading = await gradeRun(target, run, stack.targets);
  writeRun(stack.stateDir, recordGrade(run, grading.grade));
  return { run, grading };
}

async function dispatch(sub: (typeof subcommands)[number], args: string[]): Promise<number> {
  if (sub === 'list') {
    const labs = labCatalogue();
    const dir = stackOf().stateDir;
    console.log(labList(labs, new Map(labs.map((l) => [l.id, readRun(dir, l.id)]))));
    return 0;
  }
  const target = lab(args[0]);
  switch (sub) {
    case 'start': {
      await withStack(target, (stack) => startLab(target, stack));
      console.log(labBrief(target));
      return 0;
    }
    case 'status':
    case 'check': {
      const { grading } = await grade(target, stackOf());
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
    case 'solve': {
      await withStack(target, (stack) => solveLab(target, stack, (line) => console.log(line)));
      return 0;
    }
    case 'report': {
      const { run, grading } = await grade(target, stackOf());
      console.log(labReport(target, run, grading));
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
  const { positionals } = parseFlags(argv, {}, z.object({}), { positionals: true });
  const [sub, ...args] = positionals;
  if (!sub || !(subcommands as readonly string[]).includes(sub)) throw new UsageError(`expected one of: ${subcommands.join(', ')}`);
  try {
    return await dispatch(sub as (typeof subcommands)[number], args);
  } catch (err) {
    if (err instanceof LabError) throw new CommandError(err.message);
    throw err;
  }
}
