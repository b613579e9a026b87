// Setting a lab up: the random choices, then what they imply (an exam's incident picks its
// residue): faults, the autoscaler and slots, caps, a staged history and its dead letters, jobs
// submitted. Every change
// is recorded as made by the setup's `by` (an exam's weekend on-call: the candidate finds the name
// in the audit events and logs). Stop undoes what is kept in the run's `faults` and `restore`; a
// setup that fails part way undoes what it had set itself (no run is recorded for it).
import { randomInt } from 'node:crypto';
import { applies, fillChoices, type Lab } from './lab-schema.ts';
import type { LabRun } from './lab-state.ts';
import { submitJobs } from './solve-load.ts';
import { LabError, type LabStack } from './lab-stack.ts';
import { resolveTarget } from '#operator/exam/timeline.ts';

export type SetupOptions = { progress?: (line: string) => void; /** Choices made by hand (an instructor's `--choose`). */ chosen?: Readonly<Record<string, string>> };

/** The setup's random choices; `chosen` fixes some of them (each must be one of the options). */
export function pickChoices(lab: Lab, chosen: Readonly<Record<string, string>> = {}): Record<string, string> {
  for (const [name, value] of Object.entries(chosen)) {
    const options = lab.setup.choose[name];
    if (!options) throw new LabError(`lab ${lab.id} chooses no "${name}"${Object.keys(lab.setup.choose).length ? `; it chooses: ${Object.keys(lab.setup.choose).join(', ')}` : ''}`);
    if (!options.includes(value)) throw new LabError(`${name} must be one of ${options.join(', ')}; got "${value}"`);
  }
  return Object.fromEntries(Object.entries(lab.setup.choose).map(([name, options]) => [name, chosen[name] ?? options[randomInt(options.length)] ?? '']));
}

/** Whether the lab's setup touches tps_control (then it needs NATS). */
export const setsControl = (lab: Lab): boolean =>
  lab.setup.autoscaler !== undefined || Object.keys(lab.setup.slots).length > 0 || lab.setup.caps.length > 0;


/** What a setup has changed so far, filled in as each change is made: stop undoes it, and so does
 * a setup that fails part way (undoSetup). */
export type SetupChanges = Pick<LabRun, 'faults' | 'restore'>;

async function setFaults(lab: Lab, stack: LabStack, choices: Record<string, string>, by: string, changes: SetupChanges): Promise<void> {
  const faults = lab.setup.faults.filter((f) => applies(f.when, choices));
  if (faults.length > 0 && !stack.chaos) throw new LabError(`lab ${lab.id} sets faults and needs NATS`);
  for (const f of faults) {
    const target = resolveTarget(f.target, choices);
    await stack.chaos?.set({ target, fault: f.fault, params: f.params, durationMs: lab.minutes * 60_000 }, by);
    changes.faults.push({ target, fault: f.fault });
  }
}

async function setControl(lab: Lab, stack: LabStack, choices: Record<string, string>, by: string, changes: SetupChanges): Promise<void> {
  const caps = lab.setup.caps.filter((c) => applies(c.when, choices));
  if (lab.setup.autoscaler === undefined && Object.keys(lab.setup.slots).length === 0 && caps.length === 0) return;
  if (!stack.control) throw new LabError(`lab ${lab.id} sets the autoscaler, slots or caps, and needs NATS`);
  if (lab.setup.autoscaler) changes.restore.autoscaler = (await stack.control.setAutoscaler(lab.setup.autoscaler === 'on', by)).previous;
  for (const [pool, slots] of Object.entries(lab.setup.slots)) await stack.control.scale(pool, slots, by);
  for (const cap of caps) {
    await stack.control.capAutoscaler(cap.pool, cap.max, by);
    (changes.restore.caps ??= []).push(cap.pool);
  }
}

/** Clears the faults and caps in `changes` and gives the autoscaler back its state. */
export async function undoSetup(stack: LabStack, changes: SetupChanges, by: string): Promise<void> {
  for (const f of changes.faults) await stack.chaos?.clear(f.target, f.fault, by);
  if (changes.restore.autoscaler !== undefined) await stack.control?.setAutoscaler(changes.restore.autoscaler, by);
  for (const pool of changes.restore.caps ?? []) await stack.control?.capAutoscaler(pool, undefined, by);
}

/** Sets the lab up; returns the run's choices and what stop must undo. */
export async function setUp(lab: Lab, stack: LabStack, opts: SetupOptions): Promise<Pick<LabRun, 'choices' | 'faults' | 'restore'> & { submit: () => Promise<void> }> {
  const choices = pickChoices(lab, opts.chosen);
  const by = lab.setup.by ? fillChoices(lab.setup.by, choices) : `${stack.by} (lab ${lab.id})`;
  // The history first: the slowest step and the one likeliest to fail (Prometheus, promtool), and
  // a failure here leaves nothing set, where after the faults and caps it left them in place with
  // no run recorded for `tps lab stop` to clear.
  if (lab.setup.history) {
    const incident = choices.incident ?? '';
    opts.progress?.(stack.stageHistory ? await stack.stageHistory(lab.setup.history, incident, opts.progress) : 'history: not staged (Prometheus is not reachable from here)');
  }
  const changes: SetupChanges = { faults: [], restore: {} };
  try {
    await setFaults(lab, stack, choices, by, changes);
    await setControl(lab, stack, choices, by, changes);
    for (const d of lab.setup.deadLetters.filter((x) => applies(x.when, choices))) {
      if (!stack.stageDeadLetters) throw new LabError(`lab ${lab.id} stages dead letters and needs NATS`);
      const { when: _when, ...spec } = d;
      opts.progress?.(`dead letters: ${await stack.stageDeadLetters(spec, by)} ${d.type} jobs in the DLQ (${d.code}), left by the history`);
    }
  } catch (err) {
    // No run is recorded for a setup that failed: nothing else would ever clear what it set.
    await undoSetup(stack, changes, `${by} (setup failed)`).catch(() => undefined);
    throw err;
  }
  const submit = async () => {
    for (const s of lab.setup.submit.filter((x) => applies(x.when, choices))) {
      await submitJobs(stack.targets, s.type, s.count);
      opts.progress?.(`submitted ${s.count} ${s.type} jobs`);
    }
  };
  return { choices, ...changes, submit };
}
