// Side effects a service performed, by Idempotency-Key: a key completing twice is a duplicate
// side effect (at-least-once delivery made visible), counted so `tps audit` can report it.
import { InsertionRing } from '#platform/insertion-ring.ts';
import { counter, metrics, type MetricsRegistry } from '#platform/metrics.ts';

const capacity = 200_000;

export function createEffectsLedger(service: string, registry: MetricsRegistry, opts: { capacity?: number } = {}) {
  const seen = new Map<string, number>();
  const order = new InsertionRing(opts.capacity ?? capacity);
  /** The keys seen more than once, among those still remembered: what `tps audit` asks for. */
  const duplicated = new Set<string>();
  const done = counter(registry, metrics.serviceEffects, [{ service }]);
  const duplicates = counter(registry, metrics.serviceDuplicates, [{ service }]);
  return {
    /** For GET /effects/duplicates: how many keys are remembered, and which completed twice or more. */
    duplicates: () => ({ service, remembered: seen.size, capacity: order.capacity, keys: [...duplicated] }),
    record(key: string): void {
      done.inc({ service });
      const count = seen.get(key);
      if (count !== undefined) {
        duplicates.inc({ service });
        seen.set(key, count + 1);
        duplicated.add(key);
        return;
      }
      // Bounded: the oldest keys go first.
      const oldest = order.push(key);
      if (oldest !== undefined) {
        seen.delete(oldest);
        duplicated.delete(oldest);
      }
      seen.set(key, 1);
    },
  };
}
