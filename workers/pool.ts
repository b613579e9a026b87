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
  /** Whether the connection to NATS is up now (brokerState in platform/nats/connect.ts). */
  brokerConnected?: () => boolean;
  /** Resolves once that connection is down: now, or at its next loss. */
  brokerDown?: () => Promise<void>;
};

export function startPoolLoop(opts: PoolLoopOptions): PoolLoop {
  const loop = new PullLoop(opts);
  opts.onBreakerChange((state) => loop.breakerChanged(state));
  loop.schedule();
  return loop;
}

/** The loop's counts and open requests; each method is one step of it. */
class PullLoop implements PoolLoop {
  private readonly opts: PoolLoopOptions;
  /** How long one pull request waits for jobs (`fetchExpiresMs`). */
  private readonly expires: number;
  private slotLimit: number;
  private running = 0;
  /** Jobs asked for by open pull requests and not delivered yet. */
  private outstanding = 0;
  private stopping = false;
  /** A top-up is already queued for the next check phase. */
  private scheduled = false;
  private readonly fetches = new Set<ConsumerMessages>();
  private readonly pulls = new Set<Promise<void>>();
  private readonly inFlight = new Set<JsMsg>();
  /** Set by stop() while jobs run: called when the last one ends. */
  private idle: (() => void) | undefined;
  /** Made once: the callback of every schedule(). */
  private readonly topUpNow = () => this.topUp();

  constructor(opts: PoolLoopOptions) {
    this.opts = opts;
    this.expires = opts.fetchExpiresMs ?? 1_000;
    this.slotLimit = opts.slots;
  }

  get slots(): number { return this.slotLimit; }
  get busy(): number { return this.running; }

  setSlots(n: number): void {
    this.slotLimit = Math.max(0, Math.floor(n));
    this.schedule();
  }

  breakerChanged(state: BreakerState): void {
    if (state === 'open') for (const f of this.fetches) f.stop();
    this.schedule();
  }

  /** Tops up once on the next check phase, however many jobs end in this turn. */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.topUpNow);
  }

  private wanted(): number {
    const state = this.opts.breakerState();
    if (state === 'open') return 0;
    const limit = state === 'half_open' ? 1 : this.slotLimit;
    return Math.max(0, limit - this.running - this.outstanding);
  }

  private topUp(): void {
    this.scheduled = false;
    if (this.stopping) return;
    const want = this.wanted();
    if (want <= 0) return;
    const request = this.pull(want).finally(() => this.pulls.delete(request));
    this.pulls.add(request);
  }

  private async pull(n: number): Promise<void> {
    this.outstanding += n;
    let received = 0;
    try {
      const batch = await this.opts.consumer.fetch({ max_messages: n, expires: this.expires });
      this.fetches.add(batch);
      for await (const msg of batch) {
        received += 1;
        this.outstanding -= 1;
        // Delivered after stop(): back to the queue, delayed past this request's own expiry so
        // another worker gets it rather than this stopping one again (each delivery counts).
        if (this.stopping) msg.nak(this.expires);
        else this.run(msg);
      }
      this.fetches.delete(batch);
    } catch (err) {
      if (!this.stopping) this.opts.logger.warn({ err }, 'pull request failed; retrying');
      if (!this.stopping) await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      this.outstanding -= n - received;
      this.schedule();
    }
  }

  private run(msg: JsMsg): void {
    this.running += 1;
    this.inFlight.add(msg);
    this.opts.handle(msg).catch((err: unknown) => {
      this.opts.logger.error({ err }, 'job handler failed unexpectedly; handing the job back');
      msg.nak(1_000);
    }).finally(() => {
      this.running -= 1;
      this.inFlight.delete(msg);
      if (this.running === 0) this.idle?.();
      this.schedule();
    });
  }

  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    // Open pull requests are left to run out (at most `expires`) rather than unsubscribed: a
    // message already on its way would be dropped and wait out its ack_wait; this way each one
    // is handed back in pull(). Running jobs get the grace period to finish.
    const idleNow = this.running === 0 ? Promise.resolve() : new Promise<void>((resolve) => { this.idle = resolve; });
    // With NATS gone nothing can arrive on an open pull request, and nats.js ends none before the
    // connection is back: they are stopped, and only the running jobs are waited for.
    const brokerUp = this.opts.brokerConnected?.() ?? true;
    if (!brokerUp) for (const f of this.fetches) f.stop();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([idleNow, ...(brokerUp ? this.pulls : [])]),
      new Promise((resolve) => { timer = setTimeout(resolve, graceMs); }),
      // Nor are running jobs waited for while NATS is down (the host going down, every container
      // stopped at once): none could store its outcome or be acked, and a wait would only end in
      // the kill at the stop grace. Not acked, each is delivered again once NATS is back.
      ...(this.opts.brokerDown ? [this.opts.brokerDown()] : []),
    ]);
    clearTimeout(timer);
    // Whatever is still running goes back to the queue now instead of after ack_wait.
    for (const msg of this.inFlight) msg.nak();
  }
}
