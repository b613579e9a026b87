// A worker's hold on one delivered job. While it works on the job it tells JetStream so
// (`working()`) every third of the consumer's ack_wait, whatever the job's deadline: the call is
// bounded by it, but the status writes and the DLQ publish that follow have timeouts of their own,
// and a blocked event loop delays everything, so any job can outlive ack_wait (R14). Only a
// handler stuck past the longest a job can take stops telling, so JetStream gives the job to
// another worker rather than waiting on it forever.
//
// A worker that could not tell JetStream for a whole ack_wait (its process was paused, its event
// loop blocked) has lost the job: JetStream may already have handed it to another worker. Its late
// failure must not send the job round again (a late nak starts one more delivery beside the new
// holder's) nor dead-letter it: the new holder decides (R15).
import type { JsMsg } from '@nats-io/jetstream';

export type DeliveryLease = {
  /** True once JetStream may have handed the job to another worker. */
  lost(): boolean;
  /** Stops the heartbeats (the job's outcome is being sent). */
  release(): void;
};

export type LeaseOptions = {
  /** The consumer's ack_wait, as JetStream applies it. */
  ackWaitMs: number;
  /** The longest a delivery can legitimately take (its deadline plus finishing it). */
  maxHoldMs: number;
  now?: () => number;
};

export function holdDelivery(msg: Pick<JsMsg, 'working'>, opts: LeaseOptions): DeliveryLease {
  const now = opts.now ?? (() => performance.now());
  const heldSince = now();
  // JetStream's ack timer for this delivery (re)started no earlier than this; at first, the
  // delivery itself, a moment before it reached this process.
  let confirmedAt = heldSince;
  let lost = false;
  const expired = (at: number) => at - confirmedAt >= opts.ackWaitMs;

  const timer = setInterval(() => {
    const at = now();
    if (expired(at)) {
      // Heartbeats missed for a whole ack_wait: telling now would only extend another holder's.
      lost = true;
      clearInterval(timer);
      return;
    }
    if (at - heldSince >= opts.maxHoldMs) {
      clearInterval(timer);
      return;
    }
    msg.working();
    confirmedAt = at;
  }, opts.ackWaitMs / 3);

  return {
    lost: () => lost || expired(now()),
    release: () => clearInterval(timer),
  };
}
