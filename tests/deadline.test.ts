// platform/deadline.ts: a deadline signal that aborts with a TimeoutError (as AbortSignal.timeout()
// does, so isTimeout() reads both alike), follows its parent's abort, and once cleared leaves no
// timer and no listener behind (what AbortSignal.timeout() could not: its timers fired long after
// each call had answered).
import { getEventListeners } from 'node:events';
import { expect, it } from 'vitest';
import { deadlineSignal, withDeadline } from '#platform/deadline.ts';
import { isTimeout } from '#platform/errors.ts';

const aborted = (signal: AbortSignal) => new Promise<unknown>((resolve) => signal.addEventListener('abort', () => resolve(signal.reason), { once: true }));
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

it('aborts with a TimeoutError when the time is up', async () => {
  const reason = await aborted(deadlineSignal(1).signal);
  expect((reason as Error).name).toBe('TimeoutError');
  expect(isTimeout(reason)).toBe(true);
});

it('aborts with the parent\'s reason when the parent aborts first, later or already', async () => {
  const parent = new AbortController();
  const later = deadlineSignal(60_000, parent.signal);
  const reason = aborted(later.signal);
  parent.abort(new Error('the breaker gave up'));
  expect(((await reason) as Error).message).toBe('the breaker gave up');
  later.clear();
  const already = deadlineSignal(60_000, parent.signal);
  expect([already.signal.aborted, (already.signal.reason as Error).message]).toEqual([true, 'the breaker gave up']);
  already.clear();
});

it('leaves no timer and no listener on the parent once cleared, and withDeadline clears when the work settles', async () => {
  const parent = new AbortController();
  const before = timers();
  const d = deadlineSignal(60_000, parent.signal);
  expect([timers(), getEventListeners(parent.signal, 'abort').length]).toEqual([before + 1, 1]);
  d.clear();
  expect([timers(), getEventListeners(parent.signal, 'abort').length]).toEqual([before, 0]);
  expect(await withDeadline(60_000, async (signal) => signal.aborted, parent.signal)).toBe(false);
  await expect(withDeadline(60_000, async () => { throw new Error('failed work'); }, parent.signal)).rejects.toThrow('failed work');
  expect([timers(), getEventListeners(parent.signal, 'abort').length]).toEqual([before, 0]);
});
