// Side effects a service performed, by Idempotency-Key: a key completing twice is a duplicate
// side effect (at-least-once delivery made visible), counted so `tps audit` can report it.
import { counter, metrics, type MetricsRegistry } from '#platform/metrics.ts';

const capacity = 200_000;

export function createEffectsLedger(service: string, registry: MetricsRegistry) {
  const seen = new Map<string, number>();
  const done = counter(registry, metrics.serviceEffects);
  const duplicates = counter(registry, metrics.serviceDuplicates);
  return {
    record(key: string): void {
      done.inc({ service });
      const count = seen.get(key);
      if (count !== undefined) {
        duplicates.inc({ service });
        seen.set(key, count + 1);
        return;
      }
      // Bounded: the oldest keys go first (Map iterates in insertion order).
      if (seen.size >= capacity) seen.delete(seen.keys().next().value as string);
      seen.set(key, 1);
    },
  };
}
