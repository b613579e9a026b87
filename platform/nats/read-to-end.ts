// Reads an ordered consumer from where it starts to the stream's end, in batches: the DLQ listing
// and the audit-event readers both need "everything there is now", not a subscription.
import type { Consumer, JsMsg } from '@nats-io/jetstream';

export async function readToEnd(consumer: Consumer, each: (m: JsMsg) => void): Promise<void> {
  for (;;) {
    const batch = await consumer.fetch({ max_messages: 1_000, expires: 1_000 });
    let received = 0;
    let last = false;
    for await (const m of batch) {
      received += 1;
      each(m);
      // The last message of the stream as it is now: stop without waiting for the fetch to expire.
      if (m.info.pending === 0) { last = true; break; }
    }
    if (last || received === 0) return;
  }
}
