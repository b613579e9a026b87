// Reads recent audit events back from the EVENTS stream (e.g. the autoscaler's last decisions
// for `tps autoscaler status`), newest last.
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { readToEnd } from './read-to-end.ts';
import { streams } from './subjects.ts';

export async function recentEvents<T = Record<string, unknown>>(nc: NatsConnection, subject: string, opts: { sinceMs: number; limit: number }): Promise<T[]> {
  const js = jetstream(nc);
  const consumer = await js.consumers.get(streams.events, {
    filter_subjects: subject,
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(Date.now() - opts.sinceMs).toISOString(),
  });
  const out: T[] = [];
  await readToEnd(consumer, (m) => {
    try { out.push(m.json<T>()); } catch { /* not JSON: not ours */ }
    if (out.length > opts.limit) out.shift();
  });
  return out;
}
