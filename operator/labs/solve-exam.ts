// The solve steps of an exam day (the Level 3 exam): wait for a failure to begin, acknowledge it,
// restart a role, change a pool's worker processes; what the candidate does with `tps exam 3 ack`,
// `tps restart` and `tps scale --replicas`.
import { acknowledge } from '#operator/exam/ack.ts';
import { examSubjects, failureStarts, resolveTarget } from '#operator/exam/timeline.ts';
import type { Lab, SolveStep } from './lab-schema.ts';
import type { LabRun } from './lab-state.ts';
import { LabError, type LabStack } from './lab-stack.ts';

type ExamStep = Extract<SolveStep, { do: 'wait-failure' | 'ack' | 'restart' | 'replicas' }>;

function needExam(stack: LabStack): NonNullable<LabStack['exam']> {
  if (!stack.exam || !stack.events) throw new LabError('the exam day needs NATS and the native supervisor (make up)');
  return stack.exam;
}

export function timelineOf(lab: Lab): NonNullable<Lab['setup']['timeline']> {
  if (!lab.setup.timeline) throw new LabError(`lab ${lab.id} has no exam day (no timeline)`);
  return lab.setup.timeline;
}

async function waitFailure(stack: LabStack, run: LabRun, failure: string, seconds: number, pause: (ms: number) => Promise<void>): Promise<string> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const start = failureStarts(await stack.events?.(examSubjects.failure, new Date(run.startedAt)) ?? []).get(failure);
    if (start) return `the ${failure} failure began at ${start.at} (${start.fault} on ${start.target})`;
    if (Date.now() > deadline) throw new LabError(`the ${failure} failure did not begin within ${seconds} s (is the proctor running? .tps/labs/${run.id}.proctor.log)`);
    await pause(250);
  }
}

/** `pause` waits between readings and ends the wait when the solve is stopped. */
export async function examStep(lab: Lab, stack: LabStack, run: LabRun, step: ExamStep, by: string, pause: (ms: number) => Promise<void>): Promise<string> {
  const exam = needExam(stack);
  switch (step.do) {
    case 'wait-failure':
      return waitFailure(stack, run, step.failure, Math.max(5, Math.round(step.seconds / run.speed)), pause);
    case 'ack': {
      const acked = await acknowledge({ timeline: timelineOf(lab), run, read: (subject, since) => stack.events?.(subject, since) ?? Promise.resolve([]), publish: exam.publish, prometheusUrl: stack.prometheusUrl });
      return acked.length ? `acknowledged ${acked.map((a) => `${a.failure} (${Math.round(a.detectedMs / 60_000)} exam min)`).join(', ')}` : 'nothing new to acknowledge';
    }
    case 'restart':
      return exam.restart(resolveTarget(step.role, run.choices), by);
    case 'replicas':
      return exam.replicas(step.pool, step.count, by);
  }
}
