// A NATS cluster just started answers "temporarily unavailable" until its nodes have chosen a
// JetStream meta leader, and "no suitable peers for placement" for a three-copy stream until every
// node has joined: both pass within seconds. Provisioning (`tps up`'s, `tps provision`'s, compose's
// provision service, which may start beside nodes still meeting) waits them out.
import { JetStreamApiError } from '@nats-io/jetstream';
import { isTransientNatsError } from './stream-errors.ts';

/** nats-server's "no suitable peers for placement" (10005). */
const noPeersYet = (err: unknown) => err instanceof JetStreamApiError && (err.code === 10005 || /no suitable peers for placement/.test(err.message));

export async function onceClusterFormed<T>(work: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await work();
    } catch (err) {
      if (Date.now() > deadline || !(isTransientNatsError(err) || noPeersYet(err))) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
