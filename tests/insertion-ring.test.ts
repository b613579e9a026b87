// The bounded memories that forget their oldest key first: the insertion ring itself, and the two
// that use it, a service's effects ledger (duplicates for `tps audit`) and the console's trace store.
import { expect, it } from 'vitest';
import { InsertionRing } from '#platform/insertion-ring.ts';
import { createRegistry } from '#platform/metrics.ts';
import { createEffectsLedger } from '#services/chain/effects.ts';
import { createTraceStore } from '#services/console/trace-store.ts';

it('gives back the oldest key once full, in the order the keys came', () => {
  const ring = new InsertionRing(3);
  expect(['a', 'b', 'c'].map((k) => ring.push(k))).toEqual([undefined, undefined, undefined]);
  expect(['d', 'e', 'f', 'g'].map((k) => ring.push(k))).toEqual(['a', 'b', 'c', 'd']);
  expect(() => new InsertionRing(0)).toThrow(/at least one key/);
});

it('keeps the effects ledger to its capacity, forgetting the oldest keys and their duplicates first', () => {
  const ledger = createEffectsLedger('service-c', createRegistry({ defaults: false }), { capacity: 3 });
  for (const key of ['k1', 'k2', 'k2', 'k3']) ledger.record(key);
  expect(ledger.duplicates()).toEqual({ service: 'service-c', remembered: 3, capacity: 3, keys: ['k2'] });
  ledger.record('k4'); // k1 goes
  ledger.record('k5'); // k2 goes, and with it its duplicate
  expect(ledger.duplicates()).toMatchObject({ remembered: 3, keys: [] });
  ledger.record('k1'); // forgotten, so a first time again
  ledger.record('k5');
  expect(ledger.duplicates()).toMatchObject({ remembered: 3, keys: ['k5'] });
});

it("forgets the console's oldest trace, and the job it named, once it holds its maximum", () => {
  const store = createTraceStore({ maxTraces: 2, maxSpansPerTrace: 10 });
  const span = (traceId: string, job: string) => ({ service: 'worker-fast', scope: 'tps-lab', traceId, spanId: `${traceId}-s`, parentSpanId: undefined, name: 'process jobs.fast', kind: 5, startMs: 1, durationMs: 1, attributes: { 'messaging.message.id': job }, status: { code: 0 }, events: [] });
  store.add([span('t1', 'j1'), span('t2', 'j2'), span('t1', 'j1')]);
  store.add([span('t3', 'j3')]);
  expect(store.trace('t1')).toBeUndefined();
  expect(store.tracesOfJob('j1')).toEqual([]);
  expect(store.tracesOfJob('j3')).toEqual(['t3']);
  expect(store.stats()).toMatchObject({ traces: 2, spans: 2 });
});
