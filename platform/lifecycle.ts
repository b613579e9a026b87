// Graceful lifecycle for every role: on SIGTERM/SIGINT stop accepting, drain, flush, in the order
// the steps were registered. Shutdown is idempotent and each step runs even if an earlier one
// failed. No process.exit() in the normal path, so telemetry and logs flush.
import type { Logger } from './logger.ts';

/** A shutdown step; `abandon` is what to do when `run` failed or ran out of time (e.g. close a
 * connection that would not drain: left open, its reconnect loop keeps the process alive). */
type Step = { name: string; run: () => Promise<unknown> | unknown; abandon?: () => Promise<unknown> | unknown };

export type Lifecycle = {
  onShutdown(name: string, run: Step['run'], abandon?: Step['abandon']): void;
  readonly graceMs: number;
  shutdown(reason: string): Promise<void>;
  readonly stopping: boolean;
  /** Resolves when shutdown has finished. */
  readonly stopped: Promise<void>;
};

export function createLifecycle(logger: Logger, { graceMs }: { graceMs: number }): Lifecycle {
  const steps: Step[] = [];
  let stopping = false;
  let resolveStopped: () => void = () => {};
  const stopped = new Promise<void>((resolve) => { resolveStopped = resolve; });

  async function shutdown(reason: string): Promise<void> {
    if (stopping) return stopped;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    // Last resort only: if something keeps the event loop alive past the grace period. Cleared
    // once shutdown is done, so a process that goes on (a test running a role) is not killed.
    const lastResort = setTimeout(() => {
      logger.error({ graceMs }, 'shutdown did not finish within the grace period; exiting');
      process.exit(process.exitCode ?? 1);
    }, graceMs + 2_000).unref();
    for (const step of steps) {
      try {
        await withTimeout(Promise.resolve().then(step.run), graceMs, step.name);
      } catch (err) {
        process.exitCode = 1;
        logger.error({ err, step: step.name }, 'shutdown step failed');
        if (step.abandon) await Promise.resolve().then(step.abandon).catch(() => {});
      }
    }
    clearTimeout(lastResort);
    logger.info('stopped');
    resolveStopped();
  }

  return {
    onShutdown: (name, run, abandon) => { steps.push({ name, run, ...(abandon ? { abandon } : {}) }); },
    shutdown,
    graceMs,
    get stopping() { return stopping; },
    stopped,
  };
}

/** What a process stopped by a signal still holds open after its shutdown gets, at most: a last
 * export of spans (on `beforeExit`, when the loop empties) takes milliseconds; what takes longer
 * is a timer or socket nobody will need, e.g. a worker's abandoned jobs' timers, which kept
 * worker-slow to the end of its 10 s grace when Docker stopped. */
export const afterShutdownMs = 2_000;

/** A process stopped by a signal ends: once shutdown is done the event loop should empty, and a
 * handle something left open (a timer, a socket) gets the grace period, at most `afterShutdownMs`,
 * then the process exits anyway, saying so, rather than live on after logging "stopped". (Not for
 * a role run inside a test's process, which installs no handlers and goes on.) */
export function installSignalHandlers(lifecycle: Lifecycle, logger: Logger): void {
  const waitMs = Math.min(lifecycle.graceMs, afterShutdownMs);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      void lifecycle.shutdown(signal).then(() => {
        setTimeout(() => endAnyway(signal, waitMs, logger), waitMs).unref();
      });
    });
  }
}

/** What still holds the event loop (e.g. a Timeout) is logged, for whoever reads why, and the
 * process exits. But `process.exit` waits for a getaddrinfo in flight (libuv joins its thread pool
 * at exit), as long as the resolver takes: 10 s in Docker for the name of a container that was
 * stopped, the role's shutdown long done. Then the process ends by the signal it was sent, with
 * no handler, as a process without one would: that does not wait. */
function endAnyway(signal: NodeJS.Signals, waitedMs: number, logger: Logger): void {
  const active = process.getActiveResourcesInfo();
  if (active.some((resource) => resource === 'GetAddrInfoReqWrap' || resource === 'GetNameInfoReqWrap')) {
    logger.error({ waitedMs, active }, `still running after shutdown: a DNS lookup in flight, which process.exit would wait for; ending by ${signal}`);
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    return;
  }
  logger.error({ waitedMs, active }, 'still running after shutdown: something kept the process alive; exiting');
  process.exit(process.exitCode ?? 1);
}

function withTimeout<T>(promise: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`step "${name}" took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
