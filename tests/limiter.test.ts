import { expect, it } from 'vitest';
import { createLimiter } from '#services/chain/limiter.ts';

it('runs `limit` at once, queues up to `queue`, refuses the rest, and hands slots over in order', async () => {
  const limiter = createLimiter(2, 1);
  const a = await limiter.acquire();
  const b = await limiter.acquire();
  const waiting = limiter.acquire();
  expect(await limiter.acquire()).toBeUndefined();
  expect([limiter.running, limiter.waiting]).toEqual([2, 1]);
  a?.();
  const c = await waiting;
  expect(c).toBeTypeOf('function');
  expect([limiter.running, limiter.waiting]).toEqual([2, 0]);
  b?.();
  c?.();
  expect(limiter.running).toBe(0);
});

it('a pool shrunk while requests run (pool_limit) lets them finish and admits no more than the new size', async () => {
  let size = 3;
  const limiter = createLimiter(3, 4, () => size);
  const running = [await limiter.acquire(), await limiter.acquire(), await limiter.acquire()];
  size = 1;
  expect(limiter.limit).toBe(1);
  let admitted = 0;
  const waiters = [limiter.acquire(), limiter.acquire()].map((p) => p.then((release) => { admitted += 1; return release; }));
  expect(limiter.waiting).toBe(2);
  running[0]?.();
  running[1]?.();
  await Promise.resolve();
  // Two finished, one still runs: above the new size of 1, so nobody is admitted yet.
  expect([limiter.running, limiter.waiting, admitted]).toEqual([1, 2, 0]);
  running[2]?.();
  const first = await waiters[0];
  expect([limiter.running, limiter.waiting, admitted]).toEqual([1, 1, 1]);
  size = 64; // the fault ends: the pool is back to its configured size
  expect(await limiter.acquire()).toBeTypeOf('function');
  first?.();
  await waiters[1];
  expect(admitted).toBe(2);
});
