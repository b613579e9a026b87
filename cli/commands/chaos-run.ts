import { z } from 'zod';
import { parseDuration } from '#platform/config-types.ts';
import { realClock } from '#chaos/runner/clock.ts';
import { runTimeline } from '#chaos/runner/execute.ts';
import { planEvents, planHeader, span, stamp } from '#chaos/runner/format.ts';
import { resolveScenario, ScenarioError, shippedScenarioFiles, loadScenarioFile } from '#chaos/runner/load.ts';
import { PlanError, planTimeline, scenarioLengthMs, type Plan } from '#chaos/runner/plan.ts';
import { steadyCheck, waitForSteady, type SteadyCheck } from '#chaos/runner/steady.ts';
import { openChaosControl } from '#chaos/control-plane.ts';
import { createLogger } from '#platform/logger.ts';
import { CommandError, parseFlags, UsageError } from '../output.ts';
import { operator, table, withNats } from '../session.ts';
import { resolveTargets } from './status.ts';
import { interruptible } from '../interrupts.ts';

export const help = `
usage: tps chaos run <scenario|file.yaml> [--speed <N>] [--dry-run] [--no-steady-check]
                     [--recovery-deadline <duration>] [--targets role=url,...] [--interval <seconds>]
       tps chaos run --list

Runs a chaos scenario: a timeline of faults set and cleared at offsets, with notes on what to watch
on the dashboard (chaos/scenarios/*.yaml; the format is in docs/scenarios.md). The timeline is
printed as it goes. It never starts load: the load it expects is printed for you to start.

Before starting, a steady-state check (every role answers, \`tps diagnose\` finds nothing HIGH or
CRITICAL) must pass, or the run is refused with exit status 3. After the last fault ends, the
check is repeated until the system is steady again, and the recovery time is reported.
Everything the scenario set is cleared at the end, and on Ctrl-C.

  --list                    the shipped scenarios, their length at speed 1 and what they show
  --speed <N>               compress time: 60 makes an hour a minute; fault durations shrink too
                            (never below 1 s) and must stay within the catalogue's limits
  --dry-run                 print the plan at this speed; change nothing
  --no-steady-check         start even if the system is not steady; skip the check after
  --recovery-deadline <d>   how long to wait for the steady state after the end (default 2m)
  --targets role=url,...    roles to check (default: the ones \`tps up\` started)
  --interval <seconds>      window of each steady-state check (default 2)

Exit status: 0 done and steady again, 1 failed, 2 bad usage, 3 not steady (before: refused;
after: not recovered by the deadline), 130 interrupted with Ctrl-C, 143 with SIGTERM (faults
cleared either way).
`;

const flags = {
  list: { type: 'boolean' }, speed: { type: 'string' }, 'dry-run': { type: 'boolean' }, 'no-steady-check': { type: 'boolean' },
  'recovery-deadline': { type: 'string' }, targets: { type: 'string' }, interval: { type: 'string' },
} as const;
const schema = z.object({
  list: z.boolean().optional(),
  speed: z.coerce.number().positive().max(3600).default(1),
  'dry-run': z.boolean().optional(),
  'no-steady-check': z.boolean().optional(),
  'recovery-deadline': z.string().default('2m').transform((v, ctx) => {
    const ms = parseDuration(v);
    if (!ms || ms <= 0 || ms > 3_600_000) { ctx.addIssue({ code: 'custom', message: 'expected a duration up to 1h, e.g. 90s, 2m' }); return z.NEVER; }
    return ms;
  }),
  targets: z.string().optional(),
  interval: z.coerce.number().min(0.2).max(60).default(2),
});

function listScenarios(): number {
  const rows = shippedScenarioFiles().map(loadScenarioFile).map((s) => [s.name, span(scenarioLengthMs(s)), s.description]);
  console.log(table([['SCENARIO', 'LENGTH', 'DESCRIPTION'], ...rows]));
  console.log('\nRun one with `tps chaos run <scenario>`; `--dry-run` shows its timeline.');
  return 0;
}

function loadPlan(nameOrFile: string, speed: number): Plan {
  try {
    return planTimeline(resolveScenario(nameOrFile), speed);
  } catch (err) {
    if (err instanceof ScenarioError) throw new CommandError(err.message);
    if (err instanceof PlanError) throw new CommandError(`${nameOrFile}: step ${err.step + 1}: ${err.message}; use a lower --speed or change the scenario`);
    throw err;
  }
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, flags, schema, { positionals: true });
  if (values.list) return listScenarios();
  if (positionals.length !== 1) throw new UsageError('name one scenario (see `tps chaos run --list`) or a .yaml file');
  const plan = loadPlan(positionals[0] as string, values.speed);
  console.log(planHeader(plan).join('\n'));
  if (values['dry-run']) {
    console.log(`\n${planEvents(plan).join('\n')}\n\nDry run: nothing was changed.`);
    return 0;
  }
  const steadyOn = !values['no-steady-check'];
  const check: SteadyCheck | undefined = steadyOn ? steadyCheck(resolveTargets(values.targets), values.interval * 1000) : undefined;
  const run = interruptible({ said: (name) => console.log(`\n${name}: stopping the scenario and clearing what it set (Ctrl-C again to quit at once)`) });
  try {
    if (check) {
      const before = await check();
      if (run.signal.aborted) return run.status();
      if (!before.steady) {
        console.log(`\nNot starting: the system is not in a steady state:\n${before.problems.map((p) => `  - ${p}`).join('\n')}\nFix these first (\`tps diagnose\` says how), or run with --no-steady-check.`);
        return 3;
      }
      console.log('\nSteady state: every role answers, nothing HIGH or CRITICAL.');
    }
    console.log('');
    const result = await withNats('chaos-run', async ({ config, nc }) => {
      const logger = createLogger('tps', { ...config, log: { level: 'warn' } });
      const control = openChaosControl({ config, logger, nc, warn: (message) => console.error(`tps: ${message}`) });
      try {
        return await runTimeline(plan, { control, clock: realClock, signal: run.signal, say: (l) => console.log(l), by: `${operator()} scenario ${plan.scenario.name}` });
      } finally {
        await control.close();
      }
    });
    if (result.interrupted) {
      console.log(`Interrupted: the scenario left no fault behind${result.leftovers.length ? ` (cleared ${result.leftovers.join(', ')})` : ''}.`);
      return run.status();
    }
    console.log(`${stamp(plan, plan.totalMs, planTimeline(plan.scenario, 1).totalMs)} scenario ${plan.scenario.name} done; every fault it set is cleared.`);
    if (!check) return 0;
    console.log(`Waiting for the steady state (up to ${span(values['recovery-deadline'])})...`);
    const recovery = await waitForSteady(check, { clock: realClock, since: result.lastClearAt ?? Date.now(), deadlineMs: values['recovery-deadline'], signal: run.signal });
    if (run.signal.aborted) {
      console.log('Interrupted while waiting for the steady state (every fault was already cleared).');
      return run.status();
    }
    const after = result.lastClearAt !== undefined ? 'after the last fault cleared' : 'after the end';
    if (recovery.steady) {
      console.log(`Steady again ${Math.round(recovery.afterMs / 1000)} s ${after}.`);
      return 0;
    }
    console.log(`Not steady ${Math.round(recovery.afterMs / 1000)} s ${after}:\n${recovery.problems.map((p) => `  - ${p}`).join('\n')}\nRun \`tps diagnose\` for what to do.`);
    return 3;
  } finally {
    run.dispose();
  }
}
