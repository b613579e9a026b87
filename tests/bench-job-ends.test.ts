// The benchmarks' pairing of a job's POST with its end (bench/lib/job-ends.ts): whichever of the
// 202 and the end is seen first, the job is timed from its POST to its end, once.
import { expect, it, vi } from 'vitest';
import { jobEnds, type JobEnd } from '../bench/lib/job-ends.ts';

it('times a job from its POST to its end, whether the end or the 202 is seen first', () => {
  const seen: Array<[string, JobEnd]> = [];
  const ends = jobEnds((id, end) => seen.push([id, end]));
  ends.sent('a', 10);
  expect(ends.open()).toBe(1);
  ends.ended('a', 'completed', 25);
  // b ended before its 202 was read.
  ends.ended('b', 'dead_lettered', 40);
  expect(seen).toHaveLength(1);
  ends.sent('b', 30);
  expect(seen).toEqual([['a', { sentAt: 10, endedAt: 25, state: 'completed' }], ['b', { sentAt: 30, endedAt: 40, state: 'dead_lettered' }]]);
  expect(ends.open()).toBe(0);
});

it('says how many accepted jobs did not end within the drain\'s time, and forgets them when cleared', async () => {
  const ends = jobEnds(() => undefined);
  ends.sent('c', 1);
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  await ends.drain(0, 'test jobs');
  expect(log).toHaveBeenCalledWith('warning: 1 test jobs did not end within 0 ms');
  log.mockRestore();
  ends.clear();
  expect(ends.open()).toBe(0);
});
