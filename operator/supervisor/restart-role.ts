// `tps restart <role>` natively: each process of the role (every replica) is stopped with SIGTERM
// (it drains: a worker stops pulling and finishes or hands back its jobs) and the supervisor starts
// it again, as it does any process that exits; the next one only once this one is back and ready,
// so a pool of several replicas keeps working throughout. What frees a leaking process's memory.
import { readState } from './state-file.ts';
import { isInstanceOf } from './role-instances.ts';

export class RestartRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestartRefused';
  }
}

export type Restarted = { name: string; from: number; to: number; ms: number };
const pollMs = 250;

export async function restartRole(stateDir: string, role: string, opts: { timeoutMs: number; progress?: (line: string) => void }): Promise<Restarted[]> {
  const state = readState(stateDir);
  if (!state || state.phase !== 'running') throw new RestartRefused(`no native supervisor is running here (${stateDir})`);
  const processes = state.processes.filter((p) => isInstanceOf(p.name, role) && p.pid !== undefined);
  if (processes.length === 0) throw new RestartRefused(`no process of ${role} is running (tps status lists them)`);
  const done: Restarted[] = [];
  for (const p of processes) {
    const from = p.pid as number;
    const started = Date.now();
    process.kill(from, 'SIGTERM');
    opts.progress?.(`${p.name}: stopping (pid ${from}), it drains its jobs...`);
    const to = await backAndReady(stateDir, p.name, from, started + opts.timeoutMs);
    done.push({ name: p.name, from, to, ms: Date.now() - started });
    opts.progress?.(`${p.name}: running again (pid ${to}) after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return done;
}

async function backAndReady(stateDir: string, name: string, old: number, deadline: number): Promise<number> {
  for (;;) {
    const now = readState(stateDir)?.processes.find((p) => p.name === name);
    if (now?.pid !== undefined && now.pid !== old && now.ready) return now.pid;
    if (Date.now() > deadline) throw new RestartRefused(`${name} did not come back ready in time (its log: ${now?.log ?? 'see .tps/logs/'})`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
