// Whether the supervisor's role processes answer /readyz: waited for at start and when a replica
// is added, then watched so the state file's readiness column stays current for `tps status`.
import { readFileSync } from 'node:fs';
import type { RoleProcess } from './role-process.ts';

/** A role that did not get ready: its log says why; the message is for the operator, as is. */
export class RoleStartError extends Error {
  override name = 'RoleStartError';
}

/** The last lines of a role's log, so a failed start says why where it is reported (a CI log). */
function lastLines(file: string, count = 6): string {
  try {
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-count);
    return lines.map((l) => `\n    | ${l.slice(0, 300)}`).join('');
  } catch {
    return '';
  }
}

export async function probeReady(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1_000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** Resolves once every one is ready; throws when one keeps crashing, the time is up, or `signal` aborts (Ctrl-C or SIGTERM while starting). */
export async function waitUntilReady(processes: readonly RoleProcess[], timeoutMs: number, changed: () => void, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pending = processes.filter((r) => !r.ready);
    if (pending.length === 0) return;
    if (signal?.aborted) throw new RoleStartError(`stopped while starting (${String(signal.reason)}): ${pending.map((r) => r.instance.name).join(', ')} not ready yet`);
    for (const r of pending) {
      if (r.proc.restarts >= 3) {
        throw new RoleStartError(`${r.instance.name} keeps failing at start (${r.proc.lastExit}); see ${r.proc.spec.logFile}${lastLines(r.proc.spec.logFile)}`);
      }
      if (await probeReady(r.instance.port)) { r.ready = true; changed(); }
    }
    if (Date.now() > deadline) throw new RoleStartError(`not ready within ${timeoutMs / 1000} s: ${pending.map((r) => r.instance.name).join(', ')} (see .tps/logs/; a slow or busy machine may need \`tps up --timeout <seconds>\`)`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Keeps `ready` current for every process in `running` (replicas added later included). */
export async function watchReadiness(running: readonly RoleProcess[], stopping: () => boolean, changed: () => void): Promise<void> {
  while (!stopping()) {
    await new Promise((resolve) => setTimeout(resolve, 2_000).unref());
    let dirty = false;
    for (const r of [...running]) {
      const ready = r.proc.state === 'running' && (await probeReady(r.instance.port));
      if (ready !== r.ready) { r.ready = ready; dirty = true; }
    }
    if (dirty && !stopping()) changed();
  }
}
