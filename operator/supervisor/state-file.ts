// The supervisor's state on disk (.tps/supervisor.json): how `tps up` waits for readiness,
// how `tps down` finds what to stop, how `tps status` knows what runs where.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ActiveFault } from '#platform/chaos/catalogue.ts';

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

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A detached process that exited stays a zombie until its new parent reaps it; it is gone.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}
