// Watches worker heartbeats until every worker of a pool reports the slots just set, so a
// command can confirm that the change was applied, not just written.
import type { NatsConnection } from '@nats-io/transport-node';
import { readHeartbeat } from '#platform/nats/heartbeat-message.ts';
import { heartbeatSubject } from '#platform/nats/subjects.ts';
import type { Pool } from '#platform/pools.ts';

export type Applied = { workers: Map<string, number>; applied: number };

export async function waitForSlots(nc: NatsConnection, pool: Pool, slots: number, opts: { heartbeatMs: number; timeoutMs: number }): Promise<Applied> {
  const workers = new Map<string, number>();
  const sub = nc.subscribe(heartbeatSubject('worker', '*'));
  const started = Date.now();
  // Every live worker sends a heartbeat within this window; after it, we know who is there.
  const census = Math.max(1_500, 1.5 * opts.heartbeatMs);
  const timer = setTimeout(() => sub.unsubscribe(), opts.timeoutMs);
  // No worker of the pool heard from in the census window: none is running.
  const nobody = setTimeout(() => { if (workers.size === 0) sub.unsubscribe(); }, census);
  const count = () => [...workers.values()].filter((s) => s === slots).length;
  for await (const m of sub) {
    const hb = readHeartbeat(m);
    if (hb?.pool === pool) workers.set(hb.instance, hb.slots);
    if (Date.now() - started >= census && workers.size > 0 && count() === workers.size) break;
  }
  clearTimeout(timer);
  clearTimeout(nobody);
  sub.unsubscribe();
  return { workers, applied: count() };
}
