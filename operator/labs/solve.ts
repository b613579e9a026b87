// `tps lab solve`: does the learner's part of a lab, step by step as its file says (submit jobs,
// run a load, answer from the truth, set and clear a fault, scale, wait for a check to hold), so a
// lab can be demonstrated, and tests can show that a solved lab passes. A run started with
// `--speed N` runs its loads and waits N times shorter.
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '#platform/paths.ts';
import { answerLab, LabError, requireRun, type LabStack } from './engine.ts';
import { setsControl } from './setup.ts';
import { abnormalMetrics, incidents, type Incident } from '#operator/exam/weekend-history.ts';
import { gradeLab, gradeRun, type CheckResult } from './grade.ts';
import { gradersPlan, planFigures } from './forecast-probe.ts';
import { applies, type Lab, type SolveStep } from './lab-schema.ts';
import { learnerFile, writeRun, type LabRun } from './lab-state.ts';
import { currentReading, singleProbes } from './probes.ts';
import { loadLine, LoadRuns, submitJobs } from './solve-load.ts';
import { sweepStep } from './solve-tune.ts';
import { canaryStep } from './solve-canary.ts';
import { examStep } from './solve-exam.ts';

type Solving = { lab: Lab; stack: LabStack; loads: LoadRuns; stop: AbortSignal };

/** Raised by a step's wait when the solve is asked to stop (Ctrl-C): the solve ends there. */
class SolveStopped extends Error {}

/** A step's pause between two readings, cut short by a stop. */
function pause(ms: number, stop: AbortSignal): Promise<void> {
  if (stop.aborted) return Promise.reject(new SolveStopped());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { stop.removeEventListener('abort', stopped); resolve(); }, ms);
    const stopped = () => { clearTimeout(timer); reject(new SolveStopped()); };
    stop.addEventListener('abort', stopped, { once: true });
  });
}

const shortened = (seconds: number, run: LabRun) => Math.max(1, Math.round(seconds / run.speed));

/** An exam day's wait grades only the check and what it names (not the 30 checks of the day,
 * which it cannot afford to read between failures), without recording a grade; what latched is
 * kept. A lab's wait grades every check, so a latched check is seen at the moment it holds. */
async function gradeOnly(lab: Lab, stack: LabStack, only: ReadonlySet<string>): Promise<CheckResult[]> {
  const { results, held } = await gradeRun(lab, requireRun(lab, stack.stateDir, { active: true }), stack, only);
  writeRun(stack.stateDir, { ...requireRun(lab, stack.stateDir, { active: true }), held });
  return results;
}

/** The check and the checks its `held` parts name. */
function waitedChecks(check: Lab['checks'][number]): Set<string> {
  const parts = check.probe.kind === 'all' ? check.probe.of : [check.probe];
  return new Set([check.id, ...parts.flatMap((p) => (p.kind === 'held' ? [p.check] : []))]);
}

async function waitFor({ lab, stack, stop }: Solving, step: Extract<SolveStep, { do: 'wait' }>): Promise<string> {
  // A probe of the step's own is graded as a check nobody scores.
  const check = step.probe ? { id: 'the solve step\'s condition', title: '', weight: 1, probe: step.probe, latch: false, graded: 'machine' as const, hints: [''] }
    : lab.checks.find((c) => c.id === step.check && applies(c.when, requireRun(lab, stack.stateDir, { active: true }).choices));
  if (!check) throw new LabError(`lab ${lab.id} has no check "${step.check}" to wait for`);
  const target = step.probe ? { ...lab, checks: [...lab.checks, check] } : lab;
  const only = waitedChecks(check);
  const seconds = step.seconds; // the system's own reaction times do not shrink with --speed
  const deadline = Date.now() + seconds * 1000;
  // What kept it from holding before the last reading too: on an exam day the last reading can
  // be the day's end clearing its faults, which hides what held the check back while it lasted.
  let last: string | undefined;
  let before: string | undefined;
  for (;;) {
    const results = lab.setup.timeline ? await gradeOnly(target, stack, only) : (await gradeLab(target, stack)).grading.results;
    const mine = results.find((r) => r.check.id === check.id);
    if (mine?.result.holds) return `${check.id} holds`;
    const reason = mine?.result.reason ?? '';
    if (reason !== last) [before, last] = [last, reason];
    if (Date.now() > deadline) throw new LabError(`${check.id} did not hold within ${seconds} s: ${reason}${before ? ` (before that: ${before})` : ''}`);
    if (step.submit) await submitJobs(stack.targets, step.submit, 5);
    await pause(500, stop);
  }
}

/** What the learner would answer: the choice itself, or for an `abnormal` question the staged
 * incident's list of abnormal metrics. */
function truthOf(lab: Lab, key: string, chosen: string): string {
  const probe = singleProbes(lab.checks.map((c) => c.probe)).find((p) => 'key' in p && p.key === key);
  return probe?.kind === 'abnormal' && (incidents as readonly string[]).includes(chosen) ? abnormalMetrics[chosen as Incident].join(',') : chosen;
}

function needControl(stack: LabStack) {
  if (!stack.control) throw new LabError('scaling and the autoscaler need NATS');
  return stack.control;
}

async function read({ lab, stack }: Solving): Promise<string> {
  const read = [];
  for (const check of lab.checks) {
    if (check.probe.kind !== 'reading') continue;
    const value = await currentReading(check.probe, stack.targets);
    read.push(`${check.probe.key}=${value ?? ''}`);
  }
  answerLab(lab, stack.stateDir, read);
  return `read ${read.join(', ')}`;
}

/** A model answer saved where the learner saves an export. */
function save(stack: LabStack, step: Extract<SolveStep, { do: 'save' }>): string {
  const to = learnerFile(stack.stateDir, step.as);
  mkdirSync(path.dirname(to), { recursive: true });
  copyFileSync(path.join(projectRoot, step.from), to);
  return `saved ${step.from} as ${to}`;
}

/** The plan's figures, as the learner reads them off `tps capacity`, for every forecast check. */
async function plan({ lab, stack }: Solving): Promise<string> {
  if (!stack.prometheusUrl) throw new LabError('the capacity plan needs Prometheus (TPS_PROMETHEUS_URL)');
  const figures = planFigures(await gradersPlan(stack.prometheusUrl), singleProbes(lab.checks.map((c) => c.probe)));
  answerLab(lab, stack.stateDir, figures);
  return `answered from tps capacity: ${figures.join(', ')}`;
}

/** `tps scale`, `tps autoscaler enable|disable`, `tps autoscaler cap <pool> off`. */
async function controlStep(stack: LabStack, step: Extract<SolveStep, { do: 'scale' | 'autoscaler' | 'uncap' }>, by: string): Promise<string> {
  const control = needControl(stack);
  if (step.do === 'scale') {
    await control.scale(step.pool, step.slots, by);
    return `scaled ${step.pool} to ${step.slots} slots`;
  }
  if (step.do === 'autoscaler') {
    await control.setAutoscaler(step.enabled, by);
    return `autoscaler ${step.enabled ? 'enabled' : 'disabled'}`;
  }
  await control.capAutoscaler(step.pool, undefined, by);
  return `autoscaler cap on ${step.pool} lifted`;
}

/** What the learner does with `make chaos` and `make chaos-stop`. */
async function chaosStep(stack: LabStack, step: Extract<SolveStep, { do: 'fault' | 'clear' }>, by: string): Promise<string> {
  if (!stack.chaos) throw new LabError(`${step.do === 'fault' ? 'setting' : 'clearing'} a fault needs NATS`);
  if (step.do === 'clear') {
    await stack.chaos.clear(step.target, undefined, by);
    return `cleared the faults on ${step.target}`;
  }
  await stack.chaos.set({ target: step.target, fault: step.fault, params: step.params }, by);
  return `set ${step.fault} on ${step.target}`;
}

async function perform(solving: Solving, step: SolveStep): Promise<string> {
  const { lab, stack } = solving;
  const run = requireRun(lab, stack.stateDir, { active: true });
  const by = `${stack.by} (lab ${lab.id} solve)`;
  switch (step.do) {
    case 'answer': {
      const value = step.value ?? truthOf(lab, step.key, run.choices[step.from ?? ''] ?? '');
      answerLab(lab, stack.stateDir, [`${step.key}=${value}`]);
      return `answered ${step.key}=${value}`;
    }
    case 'submit':
      await submitJobs(stack.targets, step.type, step.count);
      return `submitted ${step.count} ${step.type} job${step.count === 1 ? '' : 's'}`;
    case 'load': {
      const seconds = shortened(step.seconds, run);
      const done = solving.loads.start(stack.targets, { rate: step.rate, seconds, mix: step.mix });
      return step.wait ? loadLine(await done) : `load started: ${step.rate} jobs/s for ${seconds} s`;
    }
    case 'stop-load':
      return `load stopped (${await solving.loads.stopAll()} jobs accepted)`;
    case 'fault':
    case 'clear':
      return chaosStep(stack, step, by);
    case 'scale':
    case 'autoscaler':
    case 'uncap':
      return controlStep(stack, step, by);
    case 'config': {
      if (!stack.params) throw new LabError('changing a live parameter needs NATS');
      const change = await stack.params.set(step.name, step.value, by);
      return `tps config set ${step.name} ${step.value} (was ${change.previous ?? 'the start-up value'})`;
    }
    case 'dlq-replay': {
      if (!stack.dlq) throw new LabError('replaying the DLQ needs NATS');
      const outcomes = await stack.dlq.replay({ filter: {}, all: true }, { ratePerSecond: 50, dryRun: false, by });
      return `replayed ${outcomes.length} DLQ entr${outcomes.length === 1 ? 'y' : 'ies'}`;
    }
    case 'save':
      return save(stack, step);
    case 'wait':
      return waitFor(solving, step);
    case 'read':
      return read(solving);
    case 'plan':
      return plan(solving);
    case 'tune':
      return sweepStep(stack, step, Math.max(2, shortened(step.seconds, run)), by, solving.stop);
    case 'canary':
      return canaryStep(stack, step, by);
    case 'wait-failure':
    case 'ack':
    case 'restart':
    case 'replicas':
      return examStep(lab, stack, run, step, by, (ms) => pause(ms, solving.stop));
  }
}

/** How far a solve went: `stopped` when a stop (Ctrl-C) ended it after `done` of its `of` steps. */
export type SolveOutcome = { done: number; of: number; stopped: boolean };

export async function solveLab(lab: Lab, stack: LabStack, progress: (line: string) => void = () => {}, stop: AbortSignal = new AbortController().signal): Promise<SolveOutcome> {
  const solving = { lab, stack, loads: new LoadRuns(), stop };
  // A stop ends the solve's loads at once: a step waiting for its load then returns its summary.
  const endLoads = () => void solving.loads.stopAll();
  stop.addEventListener('abort', endLoads, { once: true });
  try {
    const { choices } = requireRun(lab, stack.stateDir, { active: true });
    const steps = lab.solve.filter((step) => applies(step.when, choices));
    for (const [i, step] of steps.entries()) {
      if (stop.aborted) return { done: i, of: steps.length, stopped: true };
      try {
        progress(await perform(solving, step));
      } catch (err) {
        if (stop.aborted) return { done: i, of: steps.length, stopped: true };
        throw err;
      }
    }
    // Every step done: a stop that came during the last one stopped nothing.
    return { done: steps.length, of: steps.length, stopped: false };
  } finally {
    stop.removeEventListener('abort', endLoads);
    await solving.loads.stopAll();
  }
}

/** Whether the lab needs NATS: faults (the chaos store), tps_control, or events to read. */
export function needsNats(lab: Lab): boolean {
  return lab.setup.faults.length > 0 || lab.setup.timeline !== undefined || lab.setup.deadLetters.length > 0 || lab.setup.resets.length > 0 || lab.setup.canaries.length > 0 || setsControl(lab)
    || lab.solve.some((s) => ['fault', 'clear', 'scale', 'autoscaler', 'uncap', 'dlq-replay', 'config', 'tune', 'canary'].includes(s.do))
    || singleProbes(lab.checks.map((c) => c.probe)).some((p) => p.kind === 'event' || p.kind === 'autoscaler-free' || p.kind === 'tuned');
}
