// Reads recent audit events back from the EVENTS stream (e.g. the autoscaler's last decisions
// for `tps autoscaler status`), newest last.
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { streams } from './subjects.ts';

export async function recentEvents<T = Record<string, unknown>>(nc: NatsConnection, subject: string, opts: { sinceMs: number; limit: number }): Promise<T[]> {
  const js = jetstream(nc);
  const consumer = await js.consumers.get(streams.events, {
    filter_subjects: subject,
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(Date.now() - opts.sinceMs).toISOString(),
  });
  const out: T[] = [];
  for (;;) {
    const batch = await consumer.fetch({ max_messages: 1_000, expires: 1_000 });
    let received = 0;
    let last = false;
    for await (const m of batch) {
      received += 1;
      try { out.push(m.json<T>()); } catch { /* not JSON: not ours */ }
      if (out.length > opts.limit) out.shift();
      if (m.info.pending === 0) { last = true; break; }
    }
    if (last || received === 0) break;
  }
  return out;
}
