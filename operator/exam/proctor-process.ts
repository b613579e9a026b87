// The proctor runs in its own process, left running by `tps lab start` (the candidate's commands
// come and go; the day goes on): natively a detached process, in compose a container bin/tps
// starts. It beats into .tps/labs/<lab>.proctor.json every tick while it runs and writes "stopped"
// when done, which is how `tps exam 3 stop` knows it sets no more faults in either mode. Stopping
// it natively: SIGTERM (it stops the load and clears the day's faults), then SIGKILL if it has not
// gone within the grace; in compose it sees the run marked stopped and ends by itself.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { labsFolder } from '#operator/labs/lab-state.ts';
import path from 'node:path';

const alive = (pid: number): boolean => {
  // pid 0 would signal our own process group: a proctor in a container has no pid here.
  if (pid <= 0) return false;
  try { process.kill(pid, 0); return true; } catch { return false; }
};

/** A beat older than this is a proctor that died without saying so. */
const beatStaleMs = 5_000;
const beatFile = (stateDir: string, labId: string) => path.join(labsFolder(stateDir), `${labId}.proctor.json`);

/** The proctor's beat: it runs (now), or it has stopped. */
export function writeProctorBeat(stateDir: string, labId: string, state: 'running' | 'stopped'): void {
  const file = beatFile(stateDir, labId);
  writeFileSync(`${file}.tmp`, JSON.stringify({ state, at: new Date().toISOString() }));
  renameSync(`${file}.tmp`, file);
}

/** Whether a proctor runs for the lab: its last beat says running and is recent. */
export function proctorRunning(stateDir: string, labId: string): boolean {
  try {
    const beat = JSON.parse(readFileSync(beatFile(stateDir, labId), 'utf8')) as { state?: string; at?: string };
    return beat.state === 'running' && Date.now() - Date.parse(beat.at ?? '') < beatStaleMs;
  } catch {
    return false;
  }
}

/** Waits until the proctor no longer runs (its beat), at most graceMs. */
export async function proctorGone(stateDir: string, labId: string, graceMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + graceMs;
  while (proctorRunning(stateDir, labId)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

export async function stopProctorProcess(pid: number, graceMs = 15_000): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}
