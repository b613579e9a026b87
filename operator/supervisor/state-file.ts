// The supervisor's state on disk (.tps/supervisor.json): how `tps up` waits for readiness,
// how `tps down` finds what to stop, how `tps status` knows what runs where.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ActiveFault } from '#platform/chaos/catalogue.ts';
import { sameProcess } from './process-stamp.ts';

export type SupervisorPhase = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export type ProcessReport = {
  name: string;
  pid?: number;
  url?: string;
  state: string;
  ready: boolean;
  restarts: number;
  lastExit?: string;
  log: string;
};

export type SupervisorState = {
  pid: number;
  /** The supervisor's process stamp (process-stamp.ts): its pid is its only while this matches. */
  stamp?: string;
  phase: SupervisorPhase;
  startedAt: string;
  readyMs?: number;
  error?: string;
  /** `warning` when it is not its own nats-server with the per-role users (TPS_EXTERNAL_NATS). */
  nats: { url: string; managed: boolean; monitorUrl?: string; warning?: string };
  processes: ProcessReport[];
  notes: string[];
  /** System faults in force (nats_down, monitoring_down, autoscaler_down), each with its expiry. */
  systemFaults?: ActiveFault[];
};

export const stateFile = (dir: string) => path.join(dir, 'supervisor.json');

export function writeState(dir: string, state: SupervisorState): void {
  mkdirSync(dir, { recursive: true });
  const tmp = `${stateFile(dir)}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, stateFile(dir));
}

export function readState(dir: string): SupervisorState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(dir), 'utf8')) as SupervisorState;
  } catch {
    return undefined;
  }
}

export function clearState(dir: string): void {
  rmSync(stateFile(dir), { force: true });
}

/** The supervisor this state names is still the process at its pid, starting or running. */
export function supervisorRunning(state: SupervisorState | undefined): state is SupervisorState {
  return state !== undefined && (state.phase === 'running' || state.phase === 'starting') && sameProcess(state.pid, state.stamp);
}
