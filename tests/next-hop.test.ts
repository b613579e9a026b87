// The cache of a hop's answers (services/chain/next-hop.ts) never lets its own expiry become a
// stampede on the slow hop behind it: misses of one key while its call is out share that call, and
// a hit in the last fifth of an entry's life answers at once and refreshes it with one call. The
// next hop here is an in-process stand-in whose answers the test releases one by one, and the
// entries age on a fake clock: the timing is the test's, not the machine's (the whole chain's
// cache, with real roles, is in live-parameters.test.ts).
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { context, trace, type SpanContext } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { DownstreamClient, HopResult, WorkRequest } from '#platform/http/downstream.ts';
import { createRegistry } from '#platform/metrics.ts';
import { createNextHop, type NextHopSettings } from '#services/chain/next-hop.ts';

type Pending = { resolve: (r: HopResult) => void; reject: (e: Error) => void; request: WorkRequest; spanContext: SpanContext | undefined };
let pending: Pending[];

function nextHopOver(settings: NextHopSettings) {
  pending = [];
  const next = {
    call: (request: WorkRequest) => new Promise<HopResult>((resolve, reject) => { pending.push({ resolve, reject, request, spanContext: trace.getSpanContext(context.active()) }); }),
    breaker: { countFallback: () => undefined, policy: { timeoutMs: 3_000 } },
    close: async () => undefined,
  } as unknown as DownstreamClient;
  return createNextHop(next, { caller: 'service-b', target: 'service-c', registry: createRegistry({ defaults: false }), settings });
}
const request = (jobId: string) => ({ jobId, type: 'slow.report', attempt: 1, deadline: Date.now() + 10_000 });
const flush = () => new Promise((resolve) => setImmediate(resolve));
const answer = (ms: number): HopResult => ({ service: 'service-c', ms });

beforeEach(() => { vi.useFakeTimers({ toFake: ['Date'] }); });
// So that a job's trace context is carried across awaits, as in a role with tracing on.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const inJobTrace = <T>(traceId: string, fn: () => T): T =>
  context.with(trace.setSpanContext(context.active(), { traceId, spanId: '1'.repeat(16), traceFlags: 1 }), fn);
afterEach(() => { vi.useRealTimers(); });

it('shares one call among the misses of a key while it is out', async () => {
  const hop = nextHopOver({ cacheMs: 60_000, fallback: false });
  const calls = [hop.call(request('a')), hop.call(request('b')), hop.call(request('c'))];
  expect(pending).toHaveLength(1);
  pending[0]?.resolve(answer(2800));
  expect((await Promise.all(calls)).map((r) => r.ms)).toEqual([2800, 2800, 2800]);
  // Answered: the next miss (after expiry) makes a call of its own.
  vi.advanceTimersByTime(60_001);
  const later = hop.call(request('d'));
  expect(pending).toHaveLength(2);
  pending[1]?.resolve(answer(2700));
  expect((await later).ms).toBe(2700);
});

it('a failed shared call fails each of its waiters, and the next miss calls again', async () => {
  const hop = nextHopOver({ cacheMs: 60_000, fallback: false });
  const calls = [hop.call(request('a')), hop.call(request('b'))].map((p) => p.then(() => 'answered', (e: Error) => e.message));
  pending[0]?.reject(new Error('timed out after 3000 ms'));
  expect(await Promise.all(calls)).toEqual(['timed out after 3000 ms', 'timed out after 3000 ms']);
  void hop.call(request('c'));
  expect(pending).toHaveLength(2);
});

it('refreshes an entry in the last fifth of its life with one call, answering from the cache meanwhile', async () => {
  const hop = nextHopOver({ cacheMs: 10_000, fallback: false });
  const first = hop.call(request('a'));
  pending[0]?.resolve(answer(2800));
  await first;
  vi.advanceTimersByTime(7_900); // four fifths not yet past: a plain hit
  expect(await hop.call(request('b'))).toMatchObject({ from: 'cache', ms: 0 });
  expect(pending).toHaveLength(1);
  vi.advanceTimersByTime(200);
  expect(await inJobTrace('c'.repeat(32), () => hop.call(request('c')))).toMatchObject({ from: 'cache' });
  expect(await hop.call(request('d'))).toMatchObject({ from: 'cache' });
  expect(pending).toHaveLength(2); // one refresh for both
  // The hop's own call: not job c's id, deadline or trace (job c has answered already).
  const refresh = pending[1] as Pending;
  expect(refresh.request).toMatchObject({ jobId: expect.stringMatching(/^refresh-/), type: 'slow.report', attempt: 1, deadline: Date.now() + 3_000 });
  expect(refresh.spanContext).toBeUndefined();
  pending[1]?.resolve(answer(2600));
  await flush();
  // The refreshed entry lives its whole life again from now: a plain hit, then a refresh again.
  vi.advanceTimersByTime(7_900);
  expect(await hop.call(request('e'))).toMatchObject({ from: 'cache' });
  expect(pending).toHaveLength(2);
  vi.advanceTimersByTime(1_000);
  expect(await hop.call(request('f'))).toMatchObject({ from: 'cache' });
  expect(pending).toHaveLength(3);
});

it('a failed refresh leaves the entry answering until it expires', async () => {
  const hop = nextHopOver({ cacheMs: 10_000, fallback: false });
  const first = hop.call(request('a'));
  pending[0]?.resolve(answer(2800));
  await first;
  vi.advanceTimersByTime(9_000);
  expect(await hop.call(request('b'))).toMatchObject({ from: 'cache' });
  pending[1]?.reject(new Error('timed out after 3000 ms'));
  await flush();
  expect(await hop.call(request('c'))).toMatchObject({ from: 'cache' });
  expect(pending).toHaveLength(3); // still in its last fifth: it tries again
  vi.advanceTimersByTime(1_001);
  const expired = hop.call(request('d'));
  expect(pending).toHaveLength(3); // the refresh still out: the miss waits for it
  pending[2]?.resolve(answer(2500));
  expect((await expired).ms).toBe(2500);
});

it('without the cache every call goes through (the fallback alone shares nothing)', async () => {
  const hop = nextHopOver({ cacheMs: 0, fallback: true });
  void hop.call(request('a'));
  void hop.call(request('b'));
  expect(pending).toHaveLength(2);
});
