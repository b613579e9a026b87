// One child process the supervisor owns: started with its output appended to a log file,
// restarted with exponential backoff when it dies unexpectedly, stopped with SIGTERM then SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { ownStamp, supervisorStampVariable } from './process-stamp.ts';

export type ProcessState = 'starting' | 'running' | 'backoff' | 'stopping' | 'stopped';

export type ManagedProcessSpec = {
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  logFile: string;
  /** Restart when it exits on its own (not for one-shot tools). */
  restart: boolean;
  /** In a session of its own, so a signal to the supervisor's process group (Ctrl-C of `tps up
   * --foreground`, its terminal closed) reaches the supervisor alone, which stops the roles (they
   * drain) before nats-server. Sharing the group, nats-server quit at once on Ctrl-C, was
   * restarted as crashed, and every role was reported "exited; restarting" while it drained. */
  ownSession: boolean;
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

export type ProcessEvents = {
  onExit?: (p: ManagedProcess, description: string, willRestart: boolean) => void;
  /** After each start, the first and every restart: the process has its new pid. */
  onStart?: (p: ManagedProcess) => void;
};

const backoff = { initialMs: 500, maxMs: 30_000, stableMs: 60_000 } as const;

export function manage(spec: ManagedProcessSpec, events: ProcessEvents = {}): ManagedProcess {
  return new ManagedChild(spec, events);
}

class ManagedChild implements ManagedProcess {
  readonly spec: ManagedProcessSpec;
  readonly #events: ProcessEvents;
  #child: ChildProcess | undefined;
  #state: ProcessState = 'stopped';
  #restarts = 0;
  #delayMs: number = backoff.initialMs;
  #startedAt = 0;
  #lastExit: string | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #exited: Promise<void> = Promise.resolve();

  constructor(spec: ManagedProcessSpec, events: ProcessEvents) {
    this.spec = spec;
    this.#events = events;
  }

  get state(): ProcessState { return this.#state; }
  get pid(): number | undefined { return this.#child?.pid; }
  get restarts(): number { return this.#restarts; }
  get lastExit(): string | undefined { return this.#lastExit; }

  start(): void {
    const fd = openSync(this.spec.logFile, 'a');
    this.#state = 'starting';
    this.#startedAt = Date.now();
    // Each child carries this supervisor's stamp, so what a killed supervisor left running can be found (leftovers.ts).
    const stamp = ownStamp();
    const env = stamp ? { ...(this.spec.env ?? process.env), [supervisorStampVariable]: stamp } : this.spec.env;
    const proc = spawn(this.spec.command, [...this.spec.args], { env, stdio: ['ignore', fd, fd], detached: this.spec.ownSession });
    closeSync(fd);
    this.#child = proc;
    this.#state = 'running';
    this.#exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.#exitedWith(signal ? `killed by ${signal}` : `exited with code ${code}`);
        resolve();
      });
    });
    proc.once('error', (err) => { this.#lastExit = `could not start: ${err.message}`; });
    this.#events.onStart?.(this);
  }

  /** Stops it (and any pending restart); resolves once the process has exited. */
  async stop(graceMs: number): Promise<void> {
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    const proc = this.#child;
    if (!proc) { this.#state = 'stopped'; return; }
    this.#state = 'stopping';
    proc.kill('SIGTERM');
    const killer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(killer);
    this.#state = 'stopped';
  }

  /** An exit nobody asked for is reported, and restarted when the spec says so. */
  #exitedWith(description: string): void {
    this.#lastExit = description;
    this.#child = undefined;
    const unexpected = this.#state !== 'stopping';
    const willRestart = unexpected && this.spec.restart;
    if (unexpected) this.#events.onExit?.(this, description, willRestart);
    if (willRestart) this.#scheduleRestart();
    else this.#state = 'stopped';
  }

  #scheduleRestart(): void {
    // A process that ran for a while before dying gets a fresh, short backoff.
    if (Date.now() - this.#startedAt > backoff.stableMs) this.#delayMs = backoff.initialMs;
    this.#state = 'backoff';
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      this.#restarts += 1;
      this.start();
    }, this.#delayMs);
    this.#delayMs = Math.min(this.#delayMs * 2, backoff.maxMs);
  }
}
