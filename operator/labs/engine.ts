// Starting, answering, hinting, solving and stopping a lab. The engine acts on the stack through
// what it is given (the roles' addresses, the chaos store), so the same code serves native mode
// and the compose tools container.
import type { Lab } from './lab-schema.ts';
import { activeRun, maxSpeed, readRun, writeRun, type LabRun } from './lab-state.ts';
import { LabError, type LabStack } from './lab-stack.ts';
import { baselines, singleProbes } from './probes.ts';
import { setUp, undoSetup, type SetupOptions } from './setup.ts';
import { rollbackCanary } from '#operator/canary/rollout.ts';
import type { CanaryService } from '#platform/canary.ts';
import { stopProctorProcess } from '#operator/exam/proctor-process.ts';
import { resolveTarget } from '#operator/exam/timeline.ts';

export { LabError, type LabStack } from './lab-stack.ts';

/** Probes that read only the learner's answers, or Prometheus' history (lab 3.5 plans from it). */
const offline = new Set(['answer', 'text', 'forecast', 'held']);
const readsRoles = (lab: Lab) => singleProbes(lab.checks.map((c) => c.probe)).some((p) => !offline.has(p.kind));

export async function startLab(lab: Lab, stack: LabStack, opts: SetupOptions & { speed?: number } = {}): Promise<LabRun> {
  const running = activeRun(stack.stateDir);
  if (running && running.id !== lab.id) throw new LabError(`lab ${running.id} is in progress; \`tps lab stop\` it first (one lab at a time)`);
  if (running) await stopLab(lab, stack);
  if (stack.targets.length === 0 && readsRoles(lab)) throw new LabError('TPS Lab is not running here: start it first (make up, or docker-compose up)');
  const speedCap = lab.setup.timeline ? maxSpeed : 60;
  if ((opts.speed ?? 1) > speedCap) throw new LabError(`--speed goes up to ${speedCap} for lab ${lab.id}`);
  if (lab.setup.timeline && !stack.exam) throw new LabError(`${lab.id} needs NATS for its day (is TPS Lab running? make up, or docker-compose up)`);
  const { choices, faults, restore, submit } = await setUp(lab, stack, opts);
  const run: LabRun = {
    id: lab.id, startedAt: new Date().toISOString(), choices, faults, restore, speed: opts.speed ?? 1, answers: {}, held: {}, hintsShown: {},
    baselines: await baselines(singleProbes(lab.checks.map((c) => c.probe)), stack.targets).catch(async (err: unknown) => {
      await undoSetup(stack, { faults, restore }, `${stack.by} (lab ${lab.id} setup failed)`).catch(() => undefined);
      throw err;
    }),
  };
  writeRun(stack.stateDir, run);
  await submit();
  if (!lab.setup.timeline || !stack.exam) return run;
  const proctored = { ...run, proctor: stack.exam.startProctor(lab.id) };
  writeRun(stack.stateDir, proctored);
  return proctored;
}

/** Clears what the setup set; the run (answers, grades) is kept for `tps lab report` and `tps cert`. */
export async function stopLab(lab: Lab, stack: LabStack): Promise<LabRun> {
  const run = requireRun(lab, stack.stateDir, { active: false });
  const by = `${stack.by} (lab ${lab.id} stopped)`;
  if (run.proctor) {
    // Marked stopped first: a proctor in a container sees it and ends (natively it is also signalled).
    writeRun(stack.stateDir, { ...run, stoppedAt: run.stoppedAt ?? new Date().toISOString() });
    await (stack.exam ? stack.exam.stopProctor(lab.id, run.proctor) : stopProctorProcess(run.proctor.pid));
  }
  const dayFaults = (lab.setup.timeline?.failures ?? []).map((f) => ({ target: resolveTarget(f.target, run.choices), fault: f.fault }));
  await undoSetup(stack, { faults: [...run.faults, ...dayFaults], restore: run.restore }, by);
  for (const name of lab.setup.resets) await stack.params?.reset(name, by);
  for (const service of lab.setup.canaries) await rollBackRunning(stack, service, by);
  const stopped = {
    ...run, stoppedAt: run.stoppedAt ?? new Date().toISOString(),
    faults: stack.chaos ? [] : run.faults, restore: stack.control ? {} : run.restore,
  };
  writeRun(stack.stateDir, stopped);
  return stopped;
}

/** A canary the lab left running goes back to 0 % and its process stops; a promoted version stays. */
async function rollBackRunning(stack: LabStack, service: CanaryService, by: string): Promise<void> {
  const value = await stack.canary?.control.canary(service);
  if (stack.canary && value && value.state !== 'promoted') await rollbackCanary({ ...stack.canary, by }, service, 'lab stopped');
}

export function requireRun(lab: Lab, stateDir: string, opts: { active: boolean }): LabRun {
  const run = readRun(stateDir, lab.id);
  if (!run) throw new LabError(`lab ${lab.id} has not been started: tps lab start ${lab.id}`);
  if (opts.active && run.stoppedAt) throw new LabError(`lab ${lab.id} was stopped; start it again: tps lab start ${lab.id}`);
  return run;
}

export function answerLab(lab: Lab, stateDir: string, pairs: readonly string[]): LabRun {
  const run = requireRun(lab, stateDir, { active: true });
  const keys = singleProbes(lab.checks.map((c) => c.probe)).flatMap((p) => ('key' in p ? [p.key] : []));
  if (keys.length === 0) throw new LabError(`lab ${lab.id} asks no questions`);
  const answers = { ...run.answers };
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const [key, value] = [pair.slice(0, Math.max(at, 0)), pair.slice(at + 1).trim()];
    if (at < 0 || !value || !keys.includes(key)) throw new LabError(`expected key=value with key one of ${keys.join(', ')}; got "${pair}"`);
    answers[key] = value;
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
