// The pool's queue as JetStream sees it: waiting vs delivered-unacked (consumer info), the
// dead-letter backlog (DLQ stream, counted by subject) and the jobs still waiting to enter it (the
// advisories the pool's mover has not moved). Every replica reports the same numbers; dashboards
// take max() by pool, never sum().
import type { JetStreamManager } from '@nats-io/jetstream';
import { gauge, metrics, type MetricsRegistry } from '#platform/metrics.ts';
import { poolDlqSubjects, streams } from '#platform/nats/subjects.ts';
import { dlqMoverConsumer } from '#platform/nats/topology.ts';
import type { PoolDefinition } from '#platform/pools.ts';

export function startQueueGauges(jsm: JetStreamManager, def: PoolDefinition, registry: MetricsRegistry, everyMs: number): () => void {
  const pool = def.pool;
  const pending = gauge(registry, metrics.queuePending);
  const inflight = gauge(registry, metrics.queueInflight);
  const dlqDepth = gauge(registry, metrics.dlqDepth);
  const dlqCapacity = gauge(registry, metrics.dlqCapacity);
  const dlqBlocked = gauge(registry, metrics.dlqBlocked);
  const read = async () => {
    try {
      const ci = await jsm.consumers.info(def.stream, def.consumer);
      pending.set({ pool }, ci.num_pending);
      inflight.set({ pool }, ci.num_ack_pending);
      const dlq = await jsm.streams.info(streams.dlq, { subjects_filter: poolDlqSubjects(pool) });
      dlqDepth.set({ pool }, Object.values(dlq.state.subjects ?? {}).reduce((a, b) => a + b, 0));
      dlqCapacity.set({ pool }, dlq.config.max_msgs);
      const mover = await jsm.consumers.info(streams.advisories, dlqMoverConsumer(pool));
      dlqBlocked.set({ pool }, mover.num_pending + mover.num_ack_pending);
    } catch {
      // NATS away: keep the last values; the connection state is reported by /readyz.
    }
  };
  void read();
  const timer = setInterval(() => void read(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
