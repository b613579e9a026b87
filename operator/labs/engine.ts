// Starting, answering, hinting, solving and stopping a lab. The engine acts on the stack through
// what it is given (the roles' addresses, the chaos store), so the same code serves native mode
// and the compose tools container.
import { randomInt } from 'node:crypto';
import type { ChaosStore } from '#platform/chaos/store.ts';
import type { Target } from '#operator/status/replica-targets.ts';
import type { Lab } from './lab-schema.ts';
import { activeRun, readRun, writeRun, type LabRun } from './lab-state.ts';
import { baselines } from './probes.ts';

export class LabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabError';
  }
}

export type LabStack = { stateDir: string; targets: readonly Target[]; chaos?: ChaosStore; by: string };

function resolveTarget(target: string, choices: Readonly<Record<string, string>>): string {
  return target.startsWith('$') ? choices[target.slice(1)] ?? target : target;
}

export async function startLab(lab: Lab, stack: LabStack): Promise<LabRun> {
  const running = activeRun(stack.stateDir);
  if (running && running.id !== lab.id) throw new LabError(`lab ${running.id} is in progress; \`tps lab stop\` it first (one lab at a time)`);
  if (running) await stopLab(lab, stack);
  if (stack.targets.length === 0) throw new LabError('TPS Lab is not running here: start it first (make up, or docker-compose up)');
  const choices = Object.fromEntries(Object.entries(lab.setup.choose).map(([name, options]) => [name, options[randomInt(options.length)] ?? '']));
  if (lab.setup.faults.length > 0 && !stack.chaos) throw new LabError(`lab ${lab.id} sets faults and needs NATS`);
  const faults = [];
  for (const f of lab.setup.faults) {
    const target = resolveTarget(f.target, choices);
    await stack.chaos?.set({ target, fault: f.fault, params: f.params, durationMs: lab.minutes * 60_000 }, `${stack.by} (lab ${lab.id})`);
    faults.push({ target, fault: f.fault });
  }
  const run: LabRun = {
    id: lab.id, startedAt: new Date().toISOString(), choices, faults, answers: {}, hintsShown: {},
    baselines: await baselines(lab.checks.map((c) => c.probe), stack.targets),
  };
  writeRun(stack.stateDir, run);
  return run;
}

/** Clears what the setup set; the run (answers, grades) is kept for `tps lab report` and `tps cert`. */
export async function stopLab(lab: Lab, stack: LabStack): Promise<LabRun> {
  const run = requireRun(lab, stack.stateDir, { active: false });
  for (const f of run.faults) await stack.chaos?.clear(f.target, f.fault, `${stack.by} (lab ${lab.id} stopped)`);
  const stopped = { ...run, stoppedAt: run.stoppedAt ?? new Date().toISOString(), faults: stack.chaos ? [] : run.faults };
  writeRun(stack.stateDir, stopped);
  return stopped;
}

export function requireRun(lab: Lab, stateDir: string, opts: { active: boolean }): LabRun {
  const run = readRun(stateDir, lab.id);
  if (!run) throw new LabError(`lab ${lab.id} has not been started: tps lab start ${lab.id}`);
  if (opts.active && run.stoppedAt) throw new LabError(`lab ${lab.id} was stopped; start it again: tps lab start ${lab.id}`);
  return run;
}

export function answerLab(lab: Lab, stateDir: string, pairs: readonly string[]): LabRun {
  const run = requireRun(lab, stateDir, { active: true });
  const keys = lab.checks.flatMap((c) => (c.probe.kind === 'answer' || c.probe.kind === 'reading' ? [c.probe.key] : []));
  if (keys.length === 0) throw new LabError(`lab ${lab.id} asks no questions`);
  const answers = { ...run.answers };
  for (const pair of pairs) {
    const [key, value] = pair.split('=');
    if (!key || !value || !keys.includes(key)) throw new LabError(`expected key=value with key one of ${keys.join(', ')}; got "${pair}"`);
    answers[key] = value.trim();
  }
  const next = { ...run, answers };
  writeRun(stateDir, next);
  return next;
}

/** The next rung of the check's hint ladder (the last one again once it is reached). */
export function nextHint(lab: Lab, stateDir: string, checkId: string): { hint: string; rung: number; of: number } {
  const run = requireRun(lab, stateDir, { active: true });
  const check = lab.checks.find((c) => c.id === checkId);
  if (!check) throw new LabError(`lab ${lab.id} has no check "${checkId}"; checks: ${lab.checks.map((c) => c.id).join(', ')}`);
  const rung = Math.min((run.hintsShown[checkId] ?? 0) + 1, check.hints.length);
  writeRun(stateDir, { ...run, hintsShown: { ...run.hintsShown, [checkId]: rung } });
  // A hint may name what the setup chose at random: "{hop}" is the hop this run slowed.
  const hint = (check.hints[rung - 1] ?? '').replace(/\{(\w+)\}/g, (whole, name: string) => run.choices[name] ?? whole);
  return { hint, rung, of: check.hints.length };
}
