// The caller's verdict on a canary (services/chain/canary-judge.ts) and the route's client per
// canary (canary-route.ts): a canary is rolled back for what it does worse than the stable version
// over the same window, never for what hits both (a stalled machine, a failing service-c); with
// no stable calls to compare, its limits apply as they are. The end-to-end rollback through real
// processes is tests/canary.test.ts.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { CanaryValue } from '#platform/canary.ts';
import type { DownstreamClient, WorkRequest } from '#platform/http/downstream.ts';
import { createRegistry } from '#platform/metrics.ts';
import { CallWindow, canaryJudge, verdict, type Call } from '#services/chain/canary-judge.ts';
import { createCanaryRoute } from '#services/chain/canary-route.ts';

const limits = { maxErrorPercent: 5, maxP99Ms: 2_000, minCalls: 20 };

/** A window of `n` calls at time 0, `failed` of them failed, `slow` of them taking `slowMs`. */
function track(n: number, { failed = 0, slow = 0, slowMs = 2_500, ms = 20 } = {}): CallWindow {
  const w = new CallWindow();
  for (let i = 0; i < n; i++) w.add({ at: 0, ok: i >= failed, ms: i >= n - slow ? slowMs : ms });
  return w;
}

describe('verdict: the canary against the stable version', () => {
  it('rolls back a canary that fails more than the stable version by more than the limit', () => {
    expect(verdict(track(40, { failed: 8 }), track(360), limits))
      .toBe("its error rate was 20.0 % over its last 40 calls, the stable version's 0.0 % over its last 360 (the limit: 5 % above the stable version's)");
  });

  it('lets a canary be that fails as the stable version does: a failing service-c behind both', () => {
    expect(verdict(track(40, { failed: 8 }), track(360, { failed: 65 }), limits)).toBeUndefined();
    // Worse than that by more than the limit is the canary's own.
    expect(verdict(track(40, { failed: 12 }), track(360, { failed: 65 }), limits)).toMatch(/^its error rate was 30\.0 % .*, the stable version's 18\.1 %/);
  });

  it('lets a canary be that is as slow as the stable version: a stalled machine stalls both', () => {
    expect(verdict(track(40, { slow: 2 }), track(360, { slow: 18 }), limits)).toBeUndefined();
    expect(verdict(track(40, { slow: 2, slowMs: 2_600 }), track(360), limits))
      .toBe("its p99 was 2600 ms over its last 40 calls, the stable version's 20 ms over its last 360 (the limit: 2000 ms above the stable version's)");
  });

  it('applies the limits as they are with too few stable calls to compare, and judges nothing under min-calls', () => {
    expect(verdict(track(40, { failed: 3 }), track(19), limits)).toBe('its error rate was 7.5 % over its last 40 calls (the limit: 5 %)');
    expect(verdict(track(40, { slow: 1 }), track(0), limits)).toBe('its p99 was 2500 ms over its last 40 calls (the limit: 2000 ms)');
    expect(verdict(track(19, { failed: 19 }), track(0), limits)).toBeUndefined();
  });
});

describe('CallWindow', () => {
  it('forgets calls older than the window and keeps the newest within its cap, with the failed ones counted', () => {
    const w = new CallWindow(2_500);
    const calls: Call[] = Array.from({ length: 5_000 }, (_, i) => ({ at: i, ok: i % 10 !== 0, ms: i }));
    for (const c of calls) w.add(c);
    expect([w.calls, w.failed]).toEqual([2_500, 250]);
    w.since(4_000);
    expect([w.calls, w.failed, w.p99()]).toEqual([1_000, 100, 4_989]);
    w.since(5_000);
    expect([w.calls, w.failed, w.p99()]).toEqual([0, 0, 0]);
  });
});

const value: CanaryValue = {
  state: 'running', version: 'v2', stable: 'v1', weight: 10, url: 'http://127.0.0.1:1', maxErrorPercent: 5, maxP99Ms: 2_000,
  minCalls: 20, windowMs: 60_000, by: 'test', at: new Date(0).toISOString(),
};

describe('canaryJudge', () => {
  it('calls back once per canary value, on calls within the window only', () => {
    let now = 0;
    const broken: string[] = [];
    const judge = canaryJudge((_v, reason) => broken.push(reason), () => now);
    for (let i = 0; i < 100; i++) judge.observe(value, 'stable', true, 20);
    // Failed canary calls a minute ago are out of the window by the time the next ones come.
    for (let i = 0; i < 19; i++) judge.observe(value, 'canary', false, 20);
    now = 61_000;
    for (let i = 0; i < 100; i++) judge.observe(value, 'stable', true, 20);
    for (let i = 0; i < 19; i++) judge.observe(value, 'canary', true, 20);
    expect(broken).toEqual([]);
    judge.observe(value, 'canary', false, 20);
    judge.observe(value, 'canary', false, 20);
    expect(broken).toEqual(["its error rate was 9.5 % over its last 21 calls, the stable version's 0.0 % over its last 100 (the limit: 5 % above the stable version's)"]);
    expect(judge.judged).toBe(true);
    judge.reset(true);
    judge.observe(value, 'canary', false, 20);
    expect([judge.judged, broken.length]).toEqual([false, 1]);
  });
});

describe('the canary route', () => {
  const request: WorkRequest = { jobId: 'j', type: 'fast.lookup', attempt: 1, deadline: Date.now() + 60_000 };
  const client = (): DownstreamClient => ({
    call: async () => ({ service: 'service-b', ms: 1 }),
    breaker: {} as DownstreamClient['breaker'],
    close: async () => {},
  });

  it('reaches a canary started anew through a client of its own, and keeps it while the canary is promoted', async () => {
    const made: string[] = [];
    const route = createCanaryRoute({
      caller: 'service-a', target: 'service-b', stable: client(), registry: createRegistry({ defaults: false }), logger: pino({ level: 'silent' }),
      makeClient: (url) => { made.push(url); return client(); },
      rollBack: async () => {},
      random: () => 0,
    });
    route.apply(value);
    route.apply({ ...value, weight: 50 });
    expect(made).toHaveLength(1);
    await route.call(request);
    // Rolled back, then the same version on the same port again: a new process, a new client.
    route.apply({ ...value, state: 'rolled-back', weight: 0 });
    route.apply(value);
    route.apply({ ...value, version: 'v3' });
    expect(made).toHaveLength(3);
    await route.close();
  });
});
