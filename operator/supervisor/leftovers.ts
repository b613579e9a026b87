// What a supervisor that died without stopping (the OOM killer, kill -9) left running: its roles,
// Prometheus, and its nats-server, still holding their ports, so the next `tps up` could not start
// and `tps down` found "nothing to stop". Found by the stamp each child carries (process-stamp.ts),
// never by a pid alone, and stopped as the supervisor would have: SIGTERM, the roles first so they
// drain while their NATS still runs, then nats-server; SIGKILL for what outlives the grace period.
import { processesStartedBy, sameProcess } from './process-stamp.ts';
import type { SupervisorState } from './state-file.ts';

/** One process left running, with its own stamp: signalled only while that pid is still it. */
type Leftover = { pid: number; command: string; stamp: string | undefined };

/** The processes of a supervisor that is gone; none while it lives (they are its to stop), or when
 * the state has no stamp (an older tps, or no /proc). */
function findLeftovers(state: SupervisorState | undefined): Leftover[] {
  if (!state?.stamp || sameProcess(state.pid, state.stamp)) return [];
  return processesStartedBy(state.stamp).filter((p) => p.pid !== process.pid);
}

/** Stops them, the brokers last; resolves once every one has exited. */
async function stopLeftovers(leftovers: readonly Leftover[], graceMs: number): Promise<void> {
  const broker = (p: Leftover) => p.command.startsWith('nats-server');
  await stopAll(leftovers.filter((p) => !broker(p)), graceMs);
  await stopAll(leftovers.filter(broker), graceMs);
}

async function stopAll(group: readonly Leftover[], graceMs: number): Promise<void> {
  const running = (p: Leftover) => sameProcess(p.pid, p.stamp);
  const signal = (p: Leftover, name: NodeJS.Signals) => { try { process.kill(p.pid, name); } catch { /* already gone */ } };
  for (const p of group) signal(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (group.some(running)) {
    if (Date.now() > deadline) {
      for (const p of group) if (running(p)) signal(p, 'SIGKILL');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** For the operator: which processes were left, by name and pid. */
function listLeftovers(leftovers: readonly Leftover[]): string {
  return leftovers.map((p) => `${p.command} (pid ${p.pid})`).join(', ');
}

/** What a supervisor that is gone left running, stopped and said (before a start: nothing could
 * start on its ports); false when it left nothing. */
export async function stopWhatWasLeft(previous: SupervisorState | undefined, graceMs: number, say: (line: string) => void, who = 'the last supervisor'): Promise<boolean> {
  const leftovers = findLeftovers(previous);
  if (!previous || leftovers.length === 0) return false;
  say(`${who} (pid ${previous.pid}) is gone without stopping what it started; stopping what it left running: ${listLeftovers(leftovers)}`);
  await stopLeftovers(leftovers, graceMs);
  return true;
}
