// The solve step that does what a learner does with `tps tune`: a sweep of one lever, kept as an
// audit event as the command keeps it (lab 3.2 checks that each kind of lever was measured).
import { defaultMix, parseMix } from '#loadgen/mix.ts';
import { findTunedLever, tunableValues } from '#operator/tune/levers.ts';
import { recordSweep } from '#operator/tune/record.ts';
import { tune, TuneError } from '#operator/tune/tune.ts';
import type { SolveStep } from './lab-schema.ts';
import { LabError, type LabStack } from './lab-stack.ts';

type TuneStep = Extract<SolveStep, { do: 'tune' }>;

export async function sweepStep(stack: LabStack, step: TuneStep, seconds: number, by: string, stop?: AbortSignal): Promise<string> {
  if (!stack.tuning) throw new LabError('tuning a lever needs NATS');
  const shape = tunableValues(step.lever);
  const values = step.values.map((text) => {
    const parsed = shape?.parse(text) ?? { error: `${step.lever} is not a lever tps tune sweeps` };
    if ('error' in parsed) throw new LabError(`tune ${step.lever}: ${parsed.error}`);
    return parsed.value;
  });
  const lever = findTunedLever(step.lever, { ...stack.tuning, targets: stack.targets, by, applyTimeoutMs: 15_000 });
  if (!lever) throw new LabError(`${step.lever} is not a lever tps tune sweeps`);
  try {
    const result = await tune({ lever, values, rate: step.rate, durationMs: seconds * 1000, mix: parseMix(defaultMix), goal: step.goal, targets: stack.targets, ...(stop ? { stop } : {}) });
    await recordSweep(stack.tuning.nc, result, by);
    return `tps tune ${step.lever} --values ${step.values.join(',')}: best for ${step.goal} ${result.best !== undefined ? lever.show(result.best) : 'none'}`;
  } catch (err) {
    if (err instanceof TuneError) throw new LabError(`tune ${step.lever}: ${err.message}`);
    throw err;
  }
}
