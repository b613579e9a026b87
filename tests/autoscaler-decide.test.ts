// decide() over tables of signals: thresholds, cooldown, bounds, no flapping on noise, and the
// "more slots do not help" detection. Time is a number the test advances; nothing sleeps.
import { describe, expect, it } from 'vitest';
import { decide, type Decision, type PoolMemory, type PoolSignals, type ScalePolicy } from '#services/autoscaler/decide.ts';

const policy: ScalePolicy = {
  minSlots: 4, maxSlots: 64, upUtilization: 0.8, downUtilization: 0.2, step: 0.5, queueThreshold: 20,
  upAfterMs: 2_000, downAfterMs: 10_000, cooldownMs: 5_000, minGain: 0.1, bottleneckHoldMs: 60_000,
};
const tickMs = 1_000;

type Tick = Partial<Omit<PoolSignals, 'pool' | 'slotsPerWorker'>>;

/** Feeds one signal per tick, applying each decision's slots to the next tick, like the loop does.
 * Unless a tick says otherwise, throughput follows the slots (the pool is its own bottleneck). */
function run(ticks: readonly Tick[], opts: { slots?: number; policy?: Partial<ScalePolicy>; memory?: PoolMemory; start?: number } = {}) {
  let slots = opts.slots ?? 8;
  let memory = opts.memory;
  let now = opts.start ?? 100_000;
  const decisions: Decision[] = [];
  for (const t of ticks) {
    const d = decide({ pool: 'slow', workers: 1, utilization: 0.5, lag: 0, throughput: slots * 3, ...t, slotsPerWorker: slots }, { ...policy, ...opts.policy }, memory, now);
    decisions.push(d);
    slots = d.to;
    memory = d.memory;
    now += tickMs;
  }
  return { decisions, slots, memory, changes: decisions.filter((d) => d.direction !== 'hold').map((d) => `${d.direction} ${d.from}->${d.to} ${d.reason}`) };
}

const repeat = (n: number, t: Tick): Tick[] => Array.from({ length: n }, () => t);

describe('thresholds', () => {
  it.each([
    { name: 'utilization at 80 % scales up by half', tick: { utilization: 0.8 }, expected: ['up 8->12 utilization_high'] },
    { name: 'utilization at 79 % holds', tick: { utilization: 0.79 }, expected: [] },
    { name: 'a growing queue scales up before utilization is high', tick: { utilization: 0.5, lag: 30 }, expected: ['up 8->12 queue_growing'] },
    { name: 'a queue below the threshold does not', tick: { utilization: 0.5, lag: 19 }, expected: [] },
    { name: 'utilization at 20 % with an empty queue scales down by a third', tick: { utilization: 0.2, lag: 0 }, expected: ['down 8->5 utilization_low'] },
    { name: 'low utilization with work waiting is not idle: it holds', tick: { utilization: 0.1, lag: 50 }, expected: [] },
  ])('$name', ({ tick, expected }) => {
    expect(run(repeat(12, tick)).changes.slice(0, 1)).toEqual(expected);
  });

  it('says why it does not scale a queue that nobody pulls (breaker open), once', () => {
    const { decisions } = run(repeat(5, { utilization: 0, lag: 100 }));
    expect(decisions.map((d) => d.reason)).toEqual(repeat(5, {}).map(() => 'not_pulling'));
    expect(decisions.map((d) => d.notable)).toEqual([true, false, false, false, false]);
  });

  it('waits for pressure to last upAfterMs (up) and downAfterMs (down)', () => {
    const up = run(repeat(4, { utilization: 0.95 }));
    expect(up.decisions.map((d) => d.direction)).toEqual(['hold', 'hold', 'up', 'hold']);
    expect(up.decisions[0]?.reason).toBe('confirming');
    const down = run(repeat(12, { utilization: 0.05 }), { slots: 30 });
    expect(down.decisions.findIndex((d) => d.direction === 'down')).toBe(10);
  });

  it('holds with no workers, whatever the queue', () => {
    const { decisions } = run(repeat(3, { workers: 0, lag: 500, utilization: 0 }));
    expect(decisions.map((d) => [d.direction, d.reason])).toEqual(repeat(3, {}).map(() => ['hold', 'no_workers']));
  });
});

describe('cooldown and bounds', () => {
  it('keeps cooldownMs between two steps while the pressure lasts', () => {
    const { decisions, changes } = run(repeat(20, { utilization: 1 }));
    expect(changes).toEqual(['up 8->12 utilization_high', 'up 12->18 utilization_high', 'up 18->27 utilization_high', 'up 27->41 utilization_high']);
    const at = decisions.flatMap((d, i) => (d.direction === 'up' ? [i] : []));
    expect(at.slice(1).map((t, i) => (t - (at[i] ?? 0)) * tickMs)).toEqual([5_000, 5_000, 5_000]);
    expect(decisions[3]?.reason).toBe('cooldown');
  });

  it('counts a change made by someone else (tps scale) toward the cooldown', () => {
    const { changes } = run(repeat(4, { utilization: 1 }), { memory: { changedAt: 99_000, samples: [] } });
    expect(changes).toEqual([]);
  });

  it('never goes above the maximum (the cap) and says so once when it gets there', () => {
    const { decisions, slots } = run(repeat(60, { utilization: 1, throughput: 0 }), { slots: 40 });
    expect(slots).toBe(64);
    expect(decisions.filter((d) => d.direction === 'up').map((d) => d.to)).toEqual([60, 64]);
    const atMax = decisions.filter((d) => d.reason === 'at_max');
    expect(atMax.length).toBeGreaterThan(10);
    expect(atMax.filter((d) => d.notable)).toHaveLength(1);
  });

  it('never goes below the minimum', () => {
    const { slots, decisions } = run(repeat(60, { utilization: 0, lag: 0 }), { slots: 7 });
    expect(slots).toBe(4);
    expect(decisions.filter((d) => d.direction === 'down').map((d) => d.to)).toEqual([4]);
    expect(decisions.at(-1)?.reason).toBe('at_min');
  });

  it('never lowers a pool scaled above the maximum by hand, and never raises one below the minimum', () => {
    expect(run(repeat(30, { utilization: 1 }), { slots: 100 }).changes).toEqual([]);
    expect(run(repeat(30, { utilization: 0 }), { slots: 2 }).changes).toEqual([]);
  });
});

describe('no flapping', () => {
  it('does not move on a signal that jumps between 10 % and 90 % every tick', () => {
    const noisy = Array.from({ length: 120 }, (_, i) => ({ utilization: i % 2 ? 0.9 : 0.1 }));
    expect(run(noisy).changes).toEqual([]);
  });

  it('does not move on noise between the thresholds', () => {
    const noisy = Array.from({ length: 200 }, (_, i) => ({ utilization: 0.5 + 0.28 * Math.sin(i * 1.7), lag: (i * 7) % 19 }));
    expect(run(noisy).changes).toEqual([]);
  });

  it('one step up cannot bring utilization under the down threshold, so it does not bounce back', () => {
    // Load that keeps 7 of 8 slots busy keeps about 7 busy after the step up: 7 / 12 = 58 %.
    const ticks = [...repeat(3, { utilization: 7 / 8 }), ...repeat(60, { utilization: 7 / 12 })];
    expect(run(ticks).changes).toEqual(['up 8->12 utilization_high']);
  });
});

describe('more slots do not help', () => {
  it('detects a step up that did not raise throughput, holds, and says so once', () => {
    const { decisions, slots } = run(repeat(30, { utilization: 1, lag: 100, throughput: 50 }));
    expect(slots).toBe(12);
    const first = decisions.find((d) => d.reason === 'bottleneck');
    expect(first).toMatchObject({ direction: 'hold', bottleneck: true, notable: true });
    expect(first?.detail).toMatch(/slots 8 -> 12 raised throughput by 0 % .*bottleneck is downstream/);
    expect(decisions.filter((d) => d.reason === 'bottleneck' && d.notable)).toHaveLength(1);
  });

  it('keeps scaling while throughput follows the slots', () => {
    let slots = 8;
    let memory: PoolMemory | undefined;
    const ups: number[] = [];
    for (let t = 0; t < 25; t++) {
      const d = decide({ pool: 'slow', workers: 1, slotsPerWorker: slots, utilization: 1, lag: 100, throughput: slots * 3 }, policy, memory, 100_000 + t * tickMs);
      if (d.direction === 'up') ups.push(d.to);
      expect(d.reason).not.toBe('bottleneck');
      slots = d.to;
      memory = d.memory;
    }
    expect(ups).toEqual([12, 18, 27, 41, 62]);
  });

  it('forgets the bottleneck when the load changes, and tries one more step after the hold', () => {
    const stuck = run(repeat(12, { utilization: 1, lag: 100, throughput: 50 }));
    expect(stuck.decisions.at(-1)?.bottleneck).toBe(true);
    const relieved = run([{ utilization: 0.5, lag: 0, throughput: 50 }], { slots: stuck.slots, ...(stuck.memory ? { memory: stuck.memory } : {}), start: 200_000 });
    expect(relieved.decisions[0]?.bottleneck).toBe(false);
    const later = run(repeat(3, { utilization: 1, lag: 100, throughput: 50 }), { slots: stuck.slots, ...(stuck.memory ? { memory: stuck.memory } : {}), start: 100_000 + 12 * tickMs + policy.bottleneckHoldMs });
    expect(later.changes).toEqual(['up 12->18 utilization_high']);
  });
});
