// tps_dlq_replayed_total is counted here, in the long-running workers, because replays are done
// by short-lived `tps dlq replay` commands and the admin API. One worker per pool counts each
// replay event (a queue group), so the counter is not multiplied by the number of replicas.
import type { NatsConnection } from '@nats-io/transport-node';
import { counter, metrics, type MetricsRegistry } from '#platform/metrics.ts';
import { dlqEventSubjects, replayedEventSchema } from '#platform/dlq/audit-events.ts';
import type { Pool } from '#platform/pools.ts';

export function countReplays(nc: NatsConnection, pool: Pool, registry: MetricsRegistry): () => void {
  const replayed = counter(registry, metrics.dlqReplayed);
  const sub = nc.subscribe(dlqEventSubjects.replayed(pool), {
    queue: `dlq-replayed-${pool}`,
    callback: (_err, msg) => {
      const parsed = (() => { try { return replayedEventSchema.safeParse(msg.json()); } catch { return undefined; } })();
      if (parsed?.success) replayed.inc({ pool, reason: parsed.data.code });
    },
  });
  return () => sub.unsubscribe();
}
