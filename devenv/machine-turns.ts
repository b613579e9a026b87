// Turn-taking for the test files that load the whole machine (machine-lock.ts): a folder per
// vitest run, held by whoever created it (mkdir is atomic), with the holder's pid inside so a
// holder that died leaves it to the next. No vitest here: vitest.config.ts and child processes
// read it too.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** What the sequencer looks for in a test file's source. */
export const machineLockMarker = 'takeTurnOnTheMachine()';
/** Set by vitest.config.ts for one run, so two runs on one machine (CI and a developer's) do not share it. */
export const machineLockEnv = 'TPS_TEST_MACHINE_LOCK';
/** The longest a file waits for its turn: every other loading file's run, one after another. */
export const turnTimeoutMs = 20 * 60_000;

export function lockDir(): string {
  return process.env[machineLockEnv] ?? path.join(os.tmpdir(), `tps-test-machine-${process.ppid}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** mkdir is atomic: whoever creates the folder holds the machine; a holder that died leaves it to the next. */
function tryTake(dir: string): boolean {
  try {
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'pid'), String(process.pid));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const holder = Number(readPid(dir));
    if (holder > 0 && !alive(holder)) rmSync(dir, { recursive: true, force: true });
    return false;
  }
}

function readPid(dir: string): string {
  try {
    return readFileSync(path.join(dir, 'pid'), 'utf8');
  } catch {
    return ''; // being written: the holder is alive
  }
}

/** Waits until this process holds the machine (the folder `dir`); `onWait` once if it must wait. */
export async function holdMachine(dir: string, opts: { timeoutMs?: number; onWait?: () => void } = {}): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? turnTimeoutMs);
  for (let waited = false; !tryTake(dir); waited = true) {
    if (!waited) opts.onWait?.();
    if (Date.now() > deadline) throw new Error(`timed out waiting for the machine (${dir}, held by pid ${readPid(dir)})`);
    await delay(250); // polling the folder: the holder says nothing when it lets go
  }
}

/** Lets go of the machine, if this process holds it. */
export function releaseMachine(dir: string): void {
  if (readPid(dir) === String(process.pid)) rmSync(dir, { recursive: true, force: true });
}

