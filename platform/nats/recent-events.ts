// Reads recent audit events back from the EVENTS stream (e.g. the autoscaler's last decisions
// for `tps autoscaler status`, the whole trail for `tps events`), newest last.
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { readToEnd } from './read-to-end.ts';
import { streams } from './subjects.ts';

/** One stored event: its subject, when the stream stored it, and its JSON (undefined when not JSON). */
export type StoredEvent = { subject: string; storedAt: Date; event: Record<string, unknown> | undefined };

/** The events stored on the subject since then (those `keep` takes, when given), at most the
 * `limit` newest, oldest first. */
export async function recentEventMessages(nc: NatsConnection, subject: string, opts: { sinceMs: number; limit: number; keep?: (subject: string) => boolean }): Promise<StoredEvent[]> {
  const js = jetstream(nc);
  const consumer = await js.consumers.get(streams.events, {
    filter_subjects: subject,
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(Date.now() - opts.sinceMs).toISOString(),
  });
  const out: StoredEvent[] = [];
  await readToEnd(consumer, (m) => {
    if (opts.keep && !opts.keep(m.subject)) return;
    let event: Record<string, unknown> | undefined;
    try { event = m.json<Record<string, unknown>>(); } catch { /* not JSON: not ours */ }
    out.push({ subject: m.subject, storedAt: new Date(m.timestamp), event });
    if (out.length > opts.limit) out.shift();
  });
  return out;
}

export async function recentEvents<T = Record<string, unknown>>(nc: NatsConnection, subject: string, opts: { sinceMs: number; limit: number }): Promise<T[]> {
  const stored = await recentEventMessages(nc, subject, opts);
  return stored.flatMap((s) => (s.event ? [s.event as T] : []));
}
