// Writes to NATS gathered per turn of the event loop. nats.js flushes its socket once per burst of
// synchronous publishes (a microtask later), so a worker's status note, its status record and its
// ack, each made from its own callback, were three socket writes per job (the biggest item of a
// busy worker's profile after the call itself). Writes deferred here run together in the next
// check phase, in the order they were deferred, in one burst: one socket write for every job of
// that turn. Ordering between a write and anything awaited before it is unchanged (a terminal
// status is still stored before its ack is deferred).
import type { NatsConnection } from '@nats-io/transport-node';

export type Outbox = {
  /** Runs `write` (a publish, an ack) with the other writes of this turn, at the next check phase. */
  defer(write: () => void): void;
};

const outboxes = new WeakMap<NatsConnection, Outbox>();

/** The one outbox of a connection: every writer on it shares the same burst. */
export function outboxOf(nc: NatsConnection): Outbox {
  let outbox = outboxes.get(nc);
  if (!outbox) {
    let queued: Array<() => void> = [];
    const flush = () => {
      const writes = queued;
      queued = [];
      for (const write of writes) {
        try { write(); } catch { /* a closed connection: its writer's own error handling sees it */ }
      }
    };
    outbox = {
      defer(write) {
        if (queued.length === 0) setImmediate(flush);
        queued.push(write);
      },
    };
    outboxes.set(nc, outbox);
  }
  return outbox;
}
