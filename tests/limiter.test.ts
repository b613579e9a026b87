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
