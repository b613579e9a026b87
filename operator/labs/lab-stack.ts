// What every part of the lab engine shares: the stack a lab acts on, and the error it refuses with.
import type { ChaosStore } from '#platform/chaos/store.ts';
import type { ControlOperations } from '#platform/control/operations.ts';
import type { DlqOperations } from '#platform/dlq/operations.ts';
import type { ParameterOperations } from '#platform/params/operations.ts';
import type { DeadLetterSpec } from '#operator/exam/dead-letters.ts';
import type { ProbeSources } from './probes.ts';

export class LabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabError';
  }
}

/** The stack a lab acts on: the roles (ProbeSources), and with NATS the chaos store, the control
 * plane (`tps scale`, `tps autoscaler`) and the events. */
export type LabStack = ProbeSources & {
  stateDir: string; chaos?: ChaosStore; control?: ControlOperations; dlq?: DlqOperations; params?: ParameterOperations; by: string;
  /** Backfills the weekend of an exam's incident into Prometheus; says what it did. */
  stageHistory?: (incident: string, progress?: (line: string) => void) => Promise<string>;
  /** Puts a staged history's dead letters into the DLQ; returns how many. */
  stageDeadLetters?: (spec: DeadLetterSpec, by: string) => Promise<number>;
};
