// One child process the supervisor owns: started with its output appended to a log file,
// restarted with exponential backoff when it dies unexpectedly, stopped with SIGTERM then SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

export type ProcessState = 'starting' | 'running' | 'backoff' | 'stopping' | 'stopped';

export type ManagedProcessSpec = {
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  logFile: string;
  /** Restart when it exits on its own (not for one-shot tools). */
  restart: boolean;
};

export type ManagedProcess = {
  readonly spec: ManagedProcessSpec;
  readonly state: ProcessState;
  readonly pid: number | undefined;
  readonly restarts: number;
  readonly lastExit: string | undefined;
  start(): void;
  /** Stops it (and any pending restart); resolves once the process has exited. */
  stop(graceMs: number): Promise<void>;
};

export type ProcessEvents = { onExit?: (p: ManagedProcess, description: string, willRestart: boolean) => void };

const backoff = { initialMs: 500, maxMs: 30_000, stableMs: 60_000 } as const;

export function manage(spec: ManagedProcessSpec, events: ProcessEvents = {}): ManagedProcess {
  let child: ChildProcess | undefined;
  let state: ProcessState = 'stopped';
  let restarts = 0;
  let delayMs: number = backoff.initialMs;
  let startedAt = 0;
  let lastExit: string | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  let exited: Promise<void> = Promise.resolve();

  function start(): void {
    const fd = openSync(spec.logFile, 'a');
    state = 'starting';
    startedAt = Date.now();
    const proc = spawn(spec.command, [...spec.args], { env: spec.env, stdio: ['ignore', fd, fd], detached: false });
    closeSync(fd);
    child = proc;
    state = 'running';
    exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        lastExit = signal ? `killed by ${signal}` : `exited with code ${code}`;
        child = undefined;
        const unexpected = state !== 'stopping';
        const willRestart = unexpected && spec.restart;
        if (unexpected) events.onExit?.(self, lastExit, willRestart);
        if (willRestart) scheduleRestart();
        else state = 'stopped';
        resolve();
      });
    });
    proc.once('error', (err) => { lastExit = `could not start: ${err.message}`; });
  }

  function scheduleRestart(): void {
    // A process that ran for a while before dying gets a fresh, short backoff.
    if (Date.now() - startedAt > backoff.stableMs) delayMs = backoff.initialMs;
    state = 'backoff';
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      restarts += 1;
      start();
    }, delayMs);
    delayMs = Math.min(delayMs * 2, backoff.maxMs);
  }

  async function stop(graceMs: number): Promise<void> {
    if (restartTimer) clearTimeout(restartTimer);
    restartTimer = undefined;
    const proc = child;
    if (!proc) { state = 'stopped'; return; }
    state = 'stopping';
    proc.kill('SIGTERM');
    const killer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(killer);
    state = 'stopped';
  }

  const self: ManagedProcess = {
    spec,
    get state() { return state; },
    get pid() { return child?.pid; },
    get restarts() { return restarts; },
    get lastExit() { return lastExit; },
    start,
    stop,
  };
  return self;
}
