// How full the two job stores are, read from JetStream. The status bucket evicts its oldest entries
// at its limit (then GET /jobs/:id answers 404 for jobs that exist and audits count false losses);
// the idempotency store refuses new keys at its limit. Both say so before it happens: alerts fire
// at 80 % (monitoring/rules/alerts.ts). Every ingress replica reports the same numbers: take max().
import type { JetStreamManager } from '@nats-io/jetstream';
import { gauge, metrics, type MetricDef, type MetricsRegistry } from '#platform/metrics.ts';
import { buckets } from '#platform/nats/subjects.ts';

const stores: ReadonlyArray<{ stream: string; bytes: MetricDef<never>; limit: MetricDef<never> }> = [
  { stream: `KV_${buckets.jobs}`, bytes: metrics.jobStatusBytes, limit: metrics.jobStatusLimit },
  { stream: `KV_${buckets.idempotency}`, bytes: metrics.idempotencyBytes, limit: metrics.idempotencyLimit },
];

export function startStoreGauges(jsm: JetStreamManager, registry: MetricsRegistry, everyMs: number): { read(): Promise<void>; stop(): void } {
  const gauges = stores.map((s) => ({ stream: s.stream, bytes: gauge(registry, s.bytes), limit: gauge(registry, s.limit) }));
  const read = async () => {
    for (const g of gauges) {
      try {
        const info = await jsm.streams.info(g.stream);
        g.bytes.set(info.state.bytes);
        g.limit.set(info.config.max_bytes);
      } catch {
        // NATS away: keep the last values; the connection state is reported by /readyz.
      }
    }
  };
  let reading: Promise<void> | undefined;
  // One read at a time: while NATS does not answer, reads would otherwise pile up.
  const timer = setInterval(() => { reading ??= read().finally(() => { reading = undefined; }); }, everyMs);
  timer.unref();
  return { read, stop: () => clearInterval(timer) };
}
