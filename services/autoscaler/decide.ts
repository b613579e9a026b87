// The autoscaler's whole judgement, pure: given what a pool looks like now, the policy, what was
// remembered from earlier ticks and the time, how many slots per worker process the pool should
// have, and why. Hysteresis (80 % up, 20 % down, a step that cannot cross both), pressure that
// must last before it counts, and a cooldown between changes keep it from flapping; a measured
// "more slots did not raise throughput" stops it from scaling into a downstream bottleneck.
import type { Pool } from '#platform/pools.ts';

export type PoolSignals = {
  pool: Pool;
  /** Worker processes whose heartbeat is recent. */
  workers: number;
  /** Slots per worker process in force now (the tps_control value, else what workers report). */
  slotsPerWorker: number;
  /** Busy slots / slots over the last tick, 0..1. */
  utilization: number;
  /** Consumer lag: num_pending + num_ack_pending. */
  lag: number;
  /** Jobs leaving the queue per second over the last tick. */
  throughput: number;
};

export type ScalePolicy = {
  minSlots: number;
  maxSlots: number;
  upUtilization: number;
  downUtilization: number;
  /** 0.5: up by half, down by a third (so a step up and a step down cancel out). */
  step: number;
  /** Lag at or above which a growing queue calls for more slots. */
  queueThreshold: number;
  upAfterMs: number;
  downAfterMs: number;
  cooldownMs: number;
  /** A step up that raised throughput by less than this (0.1 = 10 %) means the bottleneck is elsewhere. */
  minGain: number;
  /** How long to hold after finding a bottleneck before trying one more step. */
  bottleneckHoldMs: number;
};

export const reasons = [
  'utilization_high', 'queue_growing', 'utilization_low',
  'steady', 'confirming', 'cooldown', 'at_max', 'at_min', 'no_workers', 'not_pulling', 'bottleneck',
] as const;
export type Reason = (typeof reasons)[number];

/** Holds worth an event when the autoscaler enters them; the rest are routine ticks. */
const notableHolds: ReadonlySet<Reason> = new Set(['at_max', 'no_workers', 'not_pulling', 'bottleneck']);

export type PoolMemory = {
  /** When slots last changed, by the autoscaler or anyone else. */
  changedAt: number;
  highSince?: number;
  lowSince?: number;
  lastLag?: number;
  reason?: Reason;
  /** Recent throughput samples (jobs/s), for comparing before and after a step. */
  samples: ReadonlyArray<{ at: number; value: number }>;
  /** The last step up, until its effect on throughput has been measured. */
  probe?: { at: number; from: number; to: number; before: number };
  bottleneckSince?: number;
  bottleneckDetail?: string;
};

export type Decision = {
  pool: Pool;
  direction: 'up' | 'down' | 'hold';
  from: number;
  to: number;
  reason: Reason;
  detail: string;
  bottleneck: boolean;
  /** Worth an event and a count: a change, or entering a notable hold. */
  notable: boolean;
  memory: PoolMemory;
};

export const initialMemory = (changedAt = Number.NEGATIVE_INFINITY): PoolMemory => ({ changedAt, samples: [] });

type Pressure = 'high' | 'low' | 'normal' | 'stalled';

function pressure(s: PoolSignals, p: ScalePolicy, lastLag: number | undefined): { kind: Pressure; why?: Reason } {
  const queued = s.lag >= p.queueThreshold;
  // Work is waiting but nobody takes it (breaker open, workers paused): more slots cannot help.
  if (queued && s.utilization <= p.downUtilization) return { kind: 'stalled' };
  if (s.utilization >= p.upUtilization) return { kind: 'high', why: 'utilization_high' };
  if (queued && s.lag >= (lastLag ?? 0)) return { kind: 'high', why: 'queue_growing' };
  if (s.utilization <= p.downUtilization && !queued) return { kind: 'low', why: 'utilization_low' };
  return { kind: 'normal' };
}

const mean = (xs: ReadonlyArray<{ value: number }>) => (xs.length ? xs.reduce((a, x) => a + x.value, 0) / xs.length : 0);
const pct = (x: number) => `${Math.round(x * 100)} %`;

export function decide(s: PoolSignals, p: ScalePolicy, previous: PoolMemory | undefined, now: number): Decision {
  const before = previous ?? initialMemory();
  const { kind, why } = pressure(s, p, before.lastLag);
  const memory: PoolMemory = {
    ...before,
    lastLag: s.lag,
    highSince: kind === 'high' ? (before.highSince ?? now) : undefined,
    lowSince: kind === 'low' ? (before.lowSince ?? now) : undefined,
    samples: [...before.samples.filter((x) => now - x.at <= 3 * p.cooldownMs), { at: now, value: s.throughput }],
  };
  const from = s.slotsPerWorker;
  const result = (direction: Decision['direction'], to: number, reason: Reason, detail: string): Decision => {
    const m: PoolMemory = { ...memory, reason };
    const notable = direction !== 'hold' || (notableHolds.has(reason) && before.reason !== reason);
    return { pool: s.pool, direction, from, to, reason, detail, bottleneck: m.bottleneckSince !== undefined, notable, memory: m };
  };
  const hold = (reason: Reason, detail: string) => result('hold', from, reason, detail);
  const load = `utilization ${pct(s.utilization)}, lag ${s.lag}, ${s.throughput.toFixed(1)} jobs/s`;

  if (s.workers === 0) return hold('no_workers', 'no worker of the pool is sending heartbeats');
  if (kind !== 'high') { memory.probe = undefined; memory.bottleneckSince = undefined; memory.bottleneckDetail = undefined; }
  if (kind === 'stalled') return hold('not_pulling', `lag ${s.lag} but utilization ${pct(s.utilization)}: workers are not taking work (breaker open?); more slots would not help`);
  if (kind === 'normal') return hold('steady', load);
  if (kind === 'low') return scaleDown(s, p, memory, now, result, load);
  return scaleUp(s, p, memory, now, result, why ?? 'utilization_high', load);
}

type Result = (direction: Decision['direction'], to: number, reason: Reason, detail: string) => Decision;

function scaleUp(s: PoolSignals, p: ScalePolicy, memory: PoolMemory, now: number, result: Result, why: Reason, load: string): Decision {
  const from = s.slotsPerWorker;
  const probe = memory.probe;
  if (probe && now - probe.at >= p.cooldownMs) {
    // Compare throughput before the step with what came after it had time to take effect.
    const after = mean(memory.samples.filter((x) => x.at > probe.at + p.cooldownMs / 3));
    const gain = probe.before > 0 ? after / probe.before - 1 : 1;
    memory.probe = undefined;
    if (gain < p.minGain) {
      memory.bottleneckSince = now;
      memory.bottleneckDetail = `slots ${probe.from} -> ${probe.to} raised throughput by ${Math.round(gain * 100)} % (${probe.before.toFixed(1)} -> ${after.toFixed(1)} jobs/s): the bottleneck is downstream, holding at ${from}`;
    }
  }
  if (memory.bottleneckSince !== undefined) {
    if (now - memory.bottleneckSince < p.bottleneckHoldMs) return result('hold', from, 'bottleneck', memory.bottleneckDetail ?? 'more slots did not raise throughput');
    memory.bottleneckSince = undefined; // held long enough: try one more step
  }
  if (from >= p.maxSlots) return result('hold', from, 'at_max', `${load}; at the maximum of ${p.maxSlots} slots`);
  if (now - (memory.highSince ?? now) < p.upAfterMs) return result('hold', from, 'confirming', `${load}; pressure must last ${p.upAfterMs} ms`);
  if (now - memory.changedAt < p.cooldownMs) return result('hold', from, 'cooldown', `${load}; last change ${now - memory.changedAt} ms ago`);
  const to = Math.min(p.maxSlots, Math.max(from + 1, Math.ceil(from * (1 + p.step))));
  memory.changedAt = now;
  memory.probe = { at: now, from, to, before: mean(memory.samples.filter((x) => now - x.at <= p.cooldownMs)) };
  return result('up', to, why, load);
}

function scaleDown(s: PoolSignals, p: ScalePolicy, memory: PoolMemory, now: number, result: Result, load: string): Decision {
  const from = s.slotsPerWorker;
  if (from <= p.minSlots) return result('hold', from, 'at_min', `${load}; at the minimum of ${p.minSlots} slots`);
  if (now - (memory.lowSince ?? now) < p.downAfterMs) return result('hold', from, 'confirming', `${load}; low load must last ${p.downAfterMs} ms`);
  if (now - memory.changedAt < p.cooldownMs) return result('hold', from, 'cooldown', `${load}; last change ${now - memory.changedAt} ms ago`);
  const to = Math.max(p.minSlots, Math.min(from - 1, Math.floor(from / (1 + p.step))));
  memory.changedAt = now;
  return result('down', to, 'utilization_low', load);
}
