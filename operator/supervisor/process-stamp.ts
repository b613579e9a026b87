// Who a pid is. A pid alone can name another program once its process is gone: after a reboot, or
// once the supervisor was killed (the OOM killer, kill -9) and the pid handed out again. So the
// supervisor's state records a stamp, the kernel's boot id and the process's start time (clock
// ticks since boot, /proc/<pid>/stat field 22), and every child it starts carries the supervisor's
// stamp in TPS_SUPERVISOR: `tps down` and `tps up` act on a pid only while its stamp matches, and
// find what a dead supervisor left running by that variable (leftovers.ts). Linux only: without
// /proc there is no stamp, and a pid is taken as it is.
import { readdirSync, readFileSync } from 'node:fs';

export const supervisorStampVariable = 'TPS_SUPERVISOR';

/** The fields of /proc/<pid>/stat from the third (the state) on: the command name (field 2) may
 * hold spaces and parentheses, so they are counted from its last ')'. Undefined when unreadable. */
export function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Something runs as `pid` (whatever it is: sameProcess says whether it is the one recorded). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A detached process that exited stays a zombie until its new parent reaps it; it is gone.
  return statFields(pid)?.[0] !== 'Z';
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** `<boot id>:<start ticks>` of a live process, or undefined (gone, or no /proc). */
export function processStamp(pid: number): string | undefined {
  const startTicks = statFields(pid)?.[19]; // field 22
  const boot = bootId();
  return boot && startTicks ? `${boot}:${startTicks}` : undefined;
}

let own: string | undefined;
/** This process's stamp, which every child it starts carries (managed-process.ts). */
export function ownStamp(): string | undefined {
  own ??= processStamp(process.pid);
  return own;
}

/** The process recorded as `pid` with `stamp` still runs (without a recorded stamp: the pid is alive). */
export function sameProcess(pid: number, stamp: string | undefined): boolean {
  if (!isAlive(pid)) return false;
  if (stamp === undefined) return true;
  const now = processStamp(pid);
  return now === undefined || now === stamp;
}

/** A role by its name (`... run worker-fast`), any other program by its file's name (nats-server, prometheus). */
function commandName(argv: readonly string[]): string {
  const run = argv.indexOf('run');
  return run >= 0 && argv[run + 1] ? argv[run + 1] as string : (argv[0] ?? '').split('/').pop() ?? '';
}

/** The live processes started by the supervisor of `stamp` (their TPS_SUPERVISOR), with their command names. */
export function processesStartedBy(stamp: string): Array<{ pid: number; command: string; stamp: string | undefined }> {
  const found: Array<{ pid: number; command: string; stamp: string | undefined }> = [];
  const wanted = `${supervisorStampVariable}=${stamp}`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Another user's processes are unreadable, so never ours to stop.
      if (!readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(wanted)) continue;
      const pid = Number(entry);
      if (!isAlive(pid)) continue;
      found.push({ pid, command: commandName(readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')), stamp: processStamp(pid) });
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}
