// The solve step that does what a learner does with `tps canary`: start a canary, move it along,
// roll it back (operator/canary/rollout.ts, the command's own steps).
import { promoteCanary, rollbackCanary, startCanary, CanaryError } from '#operator/canary/rollout.ts';
import type { SolveStep } from './lab-schema.ts';
import { LabError, type LabStack } from './lab-stack.ts';

type CanaryStep = Extract<SolveStep, { do: 'canary' }>;

export async function canaryStep(stack: LabStack, step: CanaryStep, by: string): Promise<string> {
  if (!stack.canary) throw new LabError('a canary needs NATS and, natively, the supervisor');
  const deps = { ...stack.canary, by };
  try {
    if (step.action === 'start') {
      const v = await startCanary(deps, step.service, { version: step.version ?? '', ...(step.weight ? { weight: step.weight } : {}) });
      return `tps canary start ${step.service} --version ${v.version}: ${v.weight} % of the calls`;
    }
    if (step.action === 'promote') {
      const v = await promoteCanary(deps, step.service, step.weight);
      return `tps canary promote ${step.service}: ${v.state === 'promoted' ? `${v.version} is the stable version` : `${v.weight} %`}`;
    }
    const v = await rollbackCanary(deps, step.service);
    return `tps canary rollback ${step.service}: ${v.version} rolled back${v.auto ? ' (automatically, before)' : ''}`;
  } catch (err) {
    if (err instanceof CanaryError) throw new LabError(`canary ${step.action} ${step.service}: ${err.message}`);
    throw err;
  }
}
