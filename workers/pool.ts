// The pull loop (Kanban): a worker asks JetStream for at most as many jobs as it has free slots,
// so nothing waits in a client-side buffer with its ack timer running. While the pool's breaker
// is open it asks for nothing (jobs stay in the stream, the queue fills, the ingress sheds load);
// half-open it asks for one job, the probe; closed it asks for its free slots again.
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { BreakerState } from '#platform/breaker.ts';
import type { Logger } from '#platform/logger.ts';

export type PoolLoop = {
  readonly slots: number;
  readonly busy: number;
  /** Changes the number of slots live; shrinking lets running jobs finish. */
  setSlots(n: number): void;
  /** Stops pulling; running jobs finish or, after `graceMs`, are handed back (nak). */
  stop(graceMs: number): Promise<void>;
};

export type PoolLoopOptions = {
  consumer: Consumer;
  slots: number;
  handle: (msg: JsMsg) => Promise<void>;
  breakerState: () => BreakerState;
  onBreakerChange: (listener: (state: BreakerState) => void) => void;
  logger: Logger;
  /** How long one pull request waits for jobs; short so a pause takes effect quickly. */
  fetchExpiresMs?: number;
};

export function startPoolLoop(opts: PoolLoopOptions): PoolLoop {
  let slots = opts.slots;
  let busy = 0;
  let outstanding = 0;
  let stopping = false;
  let scheduled = false;
  const fetches = new Set<ConsumerMessages>();
  const pulls = new Set<Promise<void>>();
  const inFlight = new Set<JsMsg>();
  let idle: (() => void) | undefined;
  const expires = opts.fetchExpiresMs ?? 1_000;

  function wanted(): number {
    const state = opts.breakerState();
    if (state === 'open') return 0;
    const limit = state === 'half_open' ? 1 : slots;
    return Math.max(0, limit - busy - outstanding);
  }

  function topUp(): void {
    scheduled = false;
    if (stopping) return;
    const want = wanted();
    if (want <= 0) return;
    const request = pull(want).finally(() => pulls.delete(request));
    pulls.add(request);
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(topUp);
  }

  async function pull(n: number): Promise<void> {
    outstanding += n;
    let received = 0;
    try {
      const batch = await opts.consumer.fetch({ max_messages: n, expires });
      fetches.add(batch);
      for await (const msg of batch) {
        received += 1;
        outstanding -= 1;
        // Delivered after stop(): back to the queue, delayed past this request's own expiry so
        // another worker gets it rather than this stopping one again (each delivery counts).
        if (stopping) msg.nak(expires);
        else run(msg);
      }
      fetches.delete(batch);
    } catch (err) {
      if (!stopping) opts.logger.warn({ err }, 'pull request failed; retrying');
      if (!stopping) await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      outstanding -= n - received;
      schedule();
    }
  }

  function run(msg: JsMsg): void {
    busy += 1;
    inFlight.add(msg);
    opts.handle(msg).catch((err: unknown) => {
      opts.logger.error({ err }, 'job handler failed unexpectedly; handing the job back');
      msg.nak(1_000);
    }).finally(() => {
      busy -= 1;
      inFlight.delete(msg);
      if (busy === 0) idle?.();
      schedule();
    });
  }

  opts.onBreakerChange((state) => {
    if (state === 'open') for (const f of fetches) f.stop();
    schedule();
  });
  schedule();

  return {
    get slots() { return slots; },
    get busy() { return busy; },
    setSlots(n) {
      slots = Math.max(0, Math.floor(n));
      schedule();
    },
    async stop(graceMs) {
      stopping = true;
      // Open pull requests are left to run out (at most `expires`) rather than unsubscribed: a
      // message already on its way would be dropped and wait out its ack_wait; this way each one
      // is handed back above. Running jobs get the grace period to finish.
      const idleNow = busy === 0 ? Promise.resolve() : new Promise<void>((resolve) => { idle = resolve; });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([idleNow, ...pulls]),
        new Promise((resolve) => { timer = setTimeout(resolve, graceMs); }),
      ]);
      clearTimeout(timer);
      // Whatever is still running goes back to the queue now instead of after ack_wait.
      for (const msg of inFlight) msg.nak();
    },
  };
}
