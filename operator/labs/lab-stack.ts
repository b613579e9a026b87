// What every part of the lab engine shares: the stack a lab acts on, and the error it refuses with.
import type { ControlOperations } from '#platform/control/operations.ts';
import type { DlqOperations } from '#platform/dlq/operations.ts';
import type { ParameterOperations } from '#platform/params/operations.ts';
import type { DeadLetterSpec } from '#operator/exam/dead-letters.ts';
import type { HistoryKind } from './lab-schema.ts';
import type { ProbeSources } from './probes.ts';
import type { RolloutDeps } from '#operator/canary/rollout.ts';

export class LabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabError';
  }
}

/** Setting and clearing faults as `tps chaos` does (chaos/control-plane.ts is one). */
export type LabChaos = {
  set(request: { target: string; fault: string; params?: Record<string, unknown>; durationMs?: number }, by: string): Promise<unknown>;
  clear(target: string, fault?: string, by?: string): Promise<unknown>;
};

/** The stack a lab acts on: the roles (ProbeSources), and with NATS the chaos control plane (process
 * faults in tps_chaos, system faults such as nats_down through the supervisor, as `tps chaos`
 * does), the control plane (`tps scale`, `tps autoscaler`) and the events. */
export type LabStack = ProbeSources & {
  stateDir: string; chaos?: LabChaos; control?: ControlOperations; dlq?: DlqOperations; params?: ParameterOperations; by: string;
  /** Backfills a history into Prometheus (an exam's weekend for its incident, lab 3.5's growth); says what it did. */
  stageHistory?: (kind: HistoryKind, incident: string, progress?: (line: string) => void) => Promise<string>;
  /** What `tps canary` acts with (the key, the events, natively the supervisor's processes). */
  canary?: Omit<RolloutDeps, 'by'>;
  /** An exam day's parts: publish its events, restart a role, change a pool's processes, the proctor. */
  exam?: {
    publish(subject: string, fields: Record<string, unknown>): Promise<void>;
    restart(role: string, by: string): Promise<string>;
    replicas(pool: string, count: number, by: string): Promise<string>;
    /** Starts the day's proctor in the background (natively a process: its pid; in compose a
     * container bin/tps starts once the command ends: pid 0) and says where its log is. */
    startProctor(labId: string): { pid: number; log: string };
    /** Ends it once the run is marked stopped; resolves when it sets no more faults. */
    stopProctor(labId: string, proctor: { pid: number; log: string }): Promise<void>;
  };
  /** Puts a staged history's dead letters into the DLQ; returns how many. */
  stageDeadLetters?: (spec: DeadLetterSpec, by: string) => Promise<number>;
};
