// The CPU first for the file whose turn it is on the machine (machine-lock.ts). Taking turns keeps
// two such files apart, but each still runs beside two others (three files at a time on 2 cores),
// and on a slow day of the VM their stacks' processes queued this file's behind them: lab 3.4's
// p99 stayed over 100 ms with the cache on (jobs waiting for a core, not for service-b), exam 3's
// fast queue did not drain in 60 s with the slots Little's law asks for. A real lab has the laptop
// to itself; so, as far as the CPU goes, does the file whose turn it is.
//
// Every process the file starts carries a mark in its environment (the supervisor's roles, its
// nats-server and Prometheus, a proctor, each `tps` command: environments are passed on whole), and
// is found by it in /proc while the turn lasts, a role restarted later too. Each is given nice -5
// twice over: its own (which orders it within its session), and its session's autogroup's (with
// kernel.sched_autogroup_enabled, the default, the CPU is shared between sessions first, and the
// supervisor starts every role in a session of its own). Raising a priority takes root (CI is);
// without it the file runs as before, and says so once.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { statFields } from '#operator/supervisor/process-stamp.ts';

/** The mark: the pid of the test file's process whose turn it is. */
export const turnMarkVariable = 'TPS_TEST_TURN';
// -5: three times the weight of a process at 0 (-10 is nine times, under which files beside it,
// CLI-heavy ones, ran past their 30 s timeouts for want of CPU on a slow day).
export const favouredNice = -5;
const scanEveryMs = 500;

export type Favour = { stop(): void };

/** Marks what this process starts from now on and raises each such process's priority until stop. */
export function favourWhatThisProcessStarts(say: (line: string) => void = console.warn): Favour {
  const mark = `${turnMarkVariable}=${process.pid}`;
  process.env[turnMarkVariable] = String(process.pid);
  const done = new Set<number>();
  let refused = false;
  const ownSession = statFields(process.pid)?.[3]; // field 6, the session id
  const raise = (pid: number) => {
    if (!raise1(pid, ownSession) && !refused) {
      refused = true;
      say(`turn-priority: could not raise the priority of pid ${pid} (not root?); this file's processes share the CPU as the others do`);
    }
  };
  raise(process.pid);
  done.add(process.pid);
  const scan = () => {
    for (const pid of marked(mark, done)) {
      done.add(pid);
      raise(pid);
    }
  };
  const timer = setInterval(scan, scanEveryMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      delete process.env[turnMarkVariable];
      try { os.setPriority(process.pid, 0); } catch { /* lowering back: allowed, or it never rose */ }
    },
  };
}

/** Both priorities of one process; false when either could not be set (it may have exited: no
 * matter). The autogroup only of a session of its own: this process's session is vitest's, which
 * the other files share. */
function raise1(pid: number, ownSession: string | undefined): boolean {
  try {
    os.setPriority(pid, favouredNice);
    const session = statFields(pid)?.[3];
    if (session !== undefined && session !== ownSession) writeFileSync(`/proc/${pid}/autogroup`, String(favouredNice));
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as { info?: { code?: string } }).info?.code;
    return code === 'ENOENT' || code === 'ESRCH'; // gone already
  }
}

/** The pids not yet `done` whose environment carries `mark` (whole: TPS_TEST_TURN=12 is not
 * TPS_TEST_TURN=123). One not marked is read again next time: a child forked with the mark may
 * exec with another environment, or the reverse, under the same pid. */
function marked(mark: string, done: ReadonlySet<number>): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0 || done.has(pid)) continue;
    let environ: string;
    try { environ = readFileSync(`/proc/${pid}/environ`, 'latin1'); } catch { continue; }
    if (environ.startsWith(`${mark}\0`) || environ.includes(`\0${mark}\0`) || environ.endsWith(`\0${mark}`)) pids.push(pid);
  }
  return pids;
}
