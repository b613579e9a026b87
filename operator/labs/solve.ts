// `tps lab solve`: does the learner's part of a lab, step by step as its file says (submit jobs,
// answer from the truth, set and clear a fault, wait for a check to hold), so a lab can be
// demonstrated, and tests can show that a solved lab passes.
import { answerLab, LabError, requireRun, type LabStack } from './engine.ts';
import { gradeRun } from './grade.ts';
import type { Lab, SolveStep } from './lab-schema.ts';
import { readRun } from './lab-state.ts';
import { currentReading } from './probes.ts';

async function submit(stack: LabStack, type: string, count: number): Promise<void> {
  const ingress = stack.targets.find((t) => t.role === 'ingress');
  if (!ingress) throw new LabError('no ingress to submit to');
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${ingress.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type }) });
    if (res.status !== 202) throw new LabError(`the ingress answered ${res.status} to a ${type} job`);
  }
}

async function waitFor(lab: Lab, stack: LabStack, step: Extract<SolveStep, { do: 'wait' }>): Promise<string> {
  const check = lab.checks.find((c) => c.id === step.check);
  if (!check) throw new LabError(`lab ${lab.id} has no check "${step.check}" to wait for`);
  const single = { ...lab, checks: [check] };
  const deadline = Date.now() + step.seconds * 1000;
  for (;;) {
    const run = readRun(stack.stateDir, lab.id);
    if (!run) throw new LabError(`lab ${lab.id} is not started`);
    const { results } = await gradeRun(single, run, stack.targets);
    if (results[0]?.result.holds) return `${check.id} holds`;
    if (Date.now() > deadline) throw new LabError(`${check.id} did not hold within ${step.seconds} s: ${results[0]?.result.reason ?? ''}`);
    if (step.submit) await submit(stack, step.submit, 5);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function perform(lab: Lab, stack: LabStack, step: SolveStep): Promise<string> {
  const run = requireRun(lab, stack.stateDir, { active: true });
  switch (step.do) {
    case 'answer': {
      const value = run.choices[step.from] ?? '';
      answerLab(lab, stack.stateDir, [`${step.key}=${value}`]);
      return `answered ${step.key}=${value}`;
    }
    case 'submit':
      await submit(stack, step.type, step.count);
      return `submitted ${step.count} ${step.type} job${step.count === 1 ? '' : 's'}`;
    case 'fault':
      if (!stack.chaos) throw new LabError('setting a fault needs NATS');
      await stack.chaos.set({ target: step.target, fault: step.fault, params: step.params }, `${stack.by} (lab ${lab.id} solve)`);
      return `set ${step.fault} on ${step.target}`;
    case 'clear':
      if (!stack.chaos) throw new LabError('clearing a fault needs NATS');
      await stack.chaos.clear(step.target, undefined, `${stack.by} (lab ${lab.id} solve)`);
      return `cleared the faults on ${step.target}`;
    case 'wait':
      return waitFor(lab, stack, step);
    case 'read': {
      const read = [];
      for (const check of lab.checks) {
        if (check.probe.kind !== 'reading') continue;
        const value = await currentReading(check.probe, stack.targets);
        read.push(`${check.probe.key}=${value ?? ''}`);
      }
      answerLab(lab, stack.stateDir, read);
      return `read ${read.join(', ')}`;
    }
  }
}

export async function solveLab(lab: Lab, stack: LabStack, progress: (line: string) => void = () => {}): Promise<void> {
  for (const step of lab.solve) progress(await perform(lab, stack, step));
}

/** Whether setting the lab up or solving it sets faults (then it needs the chaos store, so NATS). */
export function needsChaos(lab: Lab): boolean {
  return lab.setup.faults.length > 0 || lab.solve.some((s) => s.do === 'fault' || s.do === 'clear');
}
