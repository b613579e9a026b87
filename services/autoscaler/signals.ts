// What the autoscaler sees of a pool: worker heartbeats (slots and busy slots, averaged over the
// tick, so one instant does not decide), consumer lag from JetStream, and throughput measured as
// jobs leaving the work-queue stream (acked or dead-lettered) per second.
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { readHeartbeat } from '#platform/nats/heartbeat-message.ts';
import { heartbeatSubject } from '#platform/nats/subjects.ts';
import { poolDefinitions, type Pool } from '#platform/pools.ts';


export type Observation = {
  workers: number;
  /** Slots per worker most workers report (undefined without workers). */
  reportedSlots: number | undefined;
  slots: number;
  busy: number;
  utilization: number;
  lag: number;
  capacity: number;
  throughput: number;
};

export type SignalSource = { observe(pool: Pool, now: number): Promise<Observation>; stop(): void };

type Latest = { pool: Pool; slots: number; busy: number; receivedAt: number };

export function collectSignals(nc: NatsConnection, jsm: JetStreamManager, opts: { heartbeatMs: number }): SignalSource {
  const latest = new Map<string, Latest>();
  const sums = new Map<Pool, { slots: number; busy: number }>();
  const done = new Map<Pool, { count: number; at: number }>();
  const sub = nc.subscribe(heartbeatSubject('worker', '*'), {
    callback: (_err, msg) => {
      const hb = readHeartbeat(msg);
      if (!hb) return;
      latest.set(hb.instance, { pool: hb.pool, slots: hb.slots, busy: hb.busy, receivedAt: Date.now() });
      const sum = sums.get(hb.pool) ?? { slots: 0, busy: 0 };
      sums.set(hb.pool, { slots: sum.slots + hb.slots, busy: sum.busy + hb.busy });
    },
  });

  function workers(pool: Pool, now: number): Latest[] {
    // A worker that missed three heartbeats is gone (killed, paused, or cut off from NATS).
    for (const [instance, hb] of latest) if (now - hb.receivedAt > 3 * opts.heartbeatMs) latest.delete(instance);
    return [...latest.values()].filter((hb) => hb.pool === pool);
  }

  async function throughput(pool: Pool, now: number): Promise<{ perSecond: number; capacity: number }> {
    const info = await jsm.streams.info(poolDefinitions[pool].stream);
    // A work-queue stream removes what workers ack or term: all that ever arrived minus what is left.
    const count = info.state.last_seq - info.state.messages;
    const previous = done.get(pool);
    done.set(pool, { count, at: now });
    const perSecond = previous && now > previous.at ? Math.max(0, count - previous.count) / ((now - previous.at) / 1000) : 0;
    return { perSecond, capacity: info.config.max_msgs };
  }

  return {
    async observe(pool, now) {
      const live = workers(pool, now);
      const sum = sums.get(pool);
      sums.delete(pool);
      const slots = live.reduce((a, hb) => a + hb.slots, 0);
      const busyNow = live.reduce((a, hb) => a + hb.busy, 0);
      const utilization = sum && sum.slots > 0 ? sum.busy / sum.slots : slots > 0 ? busyNow / slots : 0;
      const ci = await jsm.consumers.info(poolDefinitions[pool].stream, poolDefinitions[pool].consumer);
      const t = await throughput(pool, now);
      return {
        workers: live.length,
        reportedSlots: mostCommon(live.map((hb) => hb.slots)),
        slots,
        busy: Math.round(utilization * slots * 10) / 10,
        utilization: Math.min(1, utilization),
        lag: ci.num_pending + ci.num_ack_pending,
        capacity: t.capacity,
        throughput: t.perSecond,
      };
    },
    stop: () => sub.unsubscribe(),
  };
}

function mostCommon(values: readonly number[]): number | undefined {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]?.[0];
}
