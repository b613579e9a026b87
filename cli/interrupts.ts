// How a long command is asked to stop: Ctrl-C (SIGINT), or SIGTERM (`timeout`, a script, a
// process manager). Either stops it the way it ends on its own, its clean-up and summary included
// (a load's ledger complete, a sweep's override put back, a scenario's faults cleared); killed by
// the signal's default action it lost them. The same request again goes further: `again` when the
// command has a harder stop, else it ends at once.
export type Interrupt = {
  /** Aborted by the first SIGINT or SIGTERM, its reason the signal's name. */
  readonly signal: AbortSignal;
  /** The exit status for the signal that stopped the command (128 + its number): 130 or 143. */
  status(): number;
  dispose(): void;
};

const statusOf = { SIGINT: 130, SIGTERM: 143 } as const;
type StopSignal = keyof typeof statusOf;

export function interruptible(opts: { said?: (signal: StopSignal) => void; again?: () => void } = {}): Interrupt {
  const controller = new AbortController();
  let hardStopped = false;
  const onSignal = (name: StopSignal) => {
    if (!controller.signal.aborted) {
      opts.said?.(name);
      controller.abort(name);
    } else if (opts.again && !hardStopped) {
      hardStopped = true;
      opts.again();
    } else {
      process.exit(statusOf[name]);
    }
  };
  for (const name of Object.keys(statusOf) as StopSignal[]) process.on(name, onSignal);
  return {
    signal: controller.signal,
    status: () => statusOf[controller.signal.reason as StopSignal] ?? 0,
    dispose: () => { for (const name of Object.keys(statusOf) as StopSignal[]) process.off(name, onSignal); },
  };
}

/**
 * The reader of this command's output went away (`| head`, `| grep -m1`, a closed terminal): the
 * command is stopped as on SIGTERM, once (its clean-up runs; without a handler it ends quietly),
 * and later writes are dropped. Node's default was an unhandled EPIPE: a stack trace, and a
 * scenario's faults left set.
 */
export function stopWhenOutputCloses(): void {
  let stopping = false;
  const closed = () => {
    if (stopping) return;
    stopping = true;
    process.kill(process.pid, 'SIGTERM');
  };
  for (const stream of [process.stdout, process.stderr]) stream.on('error', closed);
}
