// The autoscaler's tick: observe each pool, decide, write the decision to tps_control (where the
// workers pick it up), and record it. Disabled (`tps autoscaler disable`), it only observes, so
// slots stay wherever the operator puts them. A tick that fails (NATS away) changes nothing.
import type { Config } from '#platform/config.ts';
import type { PoolStatus } from '#platform/control/keys.ts';
import type { ControlStore } from '#platform/control/store.ts';
import type { Logger } from '#platform/logger.ts';
import { poolDefinitions, poolNames, type Pool } from '#platform/pools.ts';
import { decide, initialMemory, type PoolMemory, type ScalePolicy } from './decide.ts';
import type { autoscalerEvents } from './events.ts';
import type { Observation, SignalSource } from './signals.ts';

export type AutoscalerDeps = {
  config: Config;
  control: ControlStore;
  signals: SignalSource;
  events: ReturnType<typeof autoscalerEvents>;
  logger: Logger;
};

export type AutoscalerLoop = { tick(): Promise<void>; stop(): Promise<void> };

export function policyFor(config: Config, pool: Pool, capacity: number, cap: number | undefined): ScalePolicy {
  const a = config.autoscaler;
  const bounds = a.slots[pool];
  return {
    minSlots: bounds.min,
    maxSlots: Math.max(bounds.min, Math.min(bounds.max, cap ?? bounds.max)),
    upUtilization: a.upUtilization,
    downUtilization: a.downUtilization,
    step: a.step,
    queueThreshold: Math.max(1, Math.round(capacity * a.queueThreshold)),
    upAfterMs: a.upAfterMs,
    downAfterMs: a.downAfterMs,
    cooldownMs: a.cooldownMs,
    minGain: a.minGain,
    bottleneckHoldMs: a.bottleneckHoldMs,
  };
}

export function startAutoscalerLoop(deps: AutoscalerDeps): AutoscalerLoop {
  const state: TickState = { ...deps, by: `autoscaler (${deps.config.instanceId})`, memory: new Map(), lastWrite: new Map() };
  const tick = () => tickAll(state);
  // Whether it is on, and the slots it holds, are known at once; the first tick is a tick away, and
  // until then its gauges read 0 and nothing, which tps status, the console and Grafana showed as
  // "OFF (manual)" and "wants - slots" after every start.
  void announce(state).catch(() => {});
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let failures = 0;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().then(() => { failures = 0; }, (err: unknown) => {
        // One warning per outage, not one per tick.
        if (failures++ === 0) deps.logger.warn({ err }, 'autoscaler tick failed; slots stay as they are until it works again');
      }).finally(schedule);
    }, deps.config.autoscaler.tickMs);
  };
  schedule();
  return {
    tick,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** What one tick needs, and what the ticks remember between them. */
type TickState = AutoscalerDeps & {
  /** Who the autoscaler's writes to tps_control say set them. */
  by: string;
  memory: Map<Pool, PoolMemory>;
  /** The `at` of this autoscaler's last write of each pool's slots, to tell others' writes from it. */
  lastWrite: Map<Pool, string>;
};

async function tickAll(s: TickState): Promise<void> {
  const { config, control } = s;
  const now = Date.now();
  const enabled = await currentMode(s);
  const pools = {} as Record<Pool, PoolStatus>;
  for (const pool of poolNames) pools[pool] = await tickPool(s, pool, enabled, now);
  await control.setAutoscalerStatus({ instance: config.instanceId, at: new Date(now).toISOString(), enabled, tickMs: config.autoscaler.tickMs, pools });
}

async function announce(s: TickState): Promise<void> {
  await currentMode(s);
  for (const pool of poolNames) s.events.observed(pool, slotsNow(s.config, pool, (await s.control.slots(pool))?.slots), false);
}

/** Slots per worker now: the last write to tps_control, else what the workers report, else what they start with. */
function slotsNow(config: Config, pool: Pool, written: number | undefined, reported?: number): number {
  return written ?? reported ?? config.workers.slots ?? poolDefinitions[pool].slots.initial;
}

/** On or off: an operator's choice in tps_control, else AUTOSCALER_ENABLED; shown as it is read. */
async function currentMode({ config, control, events }: TickState): Promise<boolean> {
  const mode = await control.autoscalerEnabled();
  const enabled = mode?.enabled ?? config.autoscaler.enabled;
  events.mode(enabled, mode?.by);
  return enabled;
}

async function tickPool(s: TickState, pool: Pool, enabled: boolean, now: number): Promise<PoolStatus> {
  const { config, control, events, memory } = s;
  const seen = await s.signals.observe(pool, now);
  const current = await control.slots(pool);
  const slotsPerWorker = slotsNow(config, pool, current?.slots, seen.reportedSlots);
  const policy = policyFor(config, pool, seen.capacity, (await control.cap(pool))?.max);
  const mem = memory.get(pool) ?? initialMemory();
  // Someone else (tps scale, another autoscaler) changed the slots: that counts as a change.
  if (current && current.at !== s.lastWrite.get(pool)) mem.changedAt = Math.max(mem.changedAt, Date.parse(current.at));
  if (!enabled) {
    // Pressure seen while disabled must be confirmed again once enabled.
    memory.set(pool, { ...mem, highSince: undefined, lowSince: undefined, probe: undefined, reason: undefined });
    events.observed(pool, slotsPerWorker, false);
    return poolStatus(seen, policy, slotsPerWorker, 'disabled', false);
  }
  const d = decide({ pool, slotsPerWorker, ...pick(seen) }, policy, mem, now);
  if (d.direction !== 'hold') {
    const at = new Date(now).toISOString();
    await control.setSlots(pool, d.to, { by: s.by, at, reason: `${d.reason}: ${d.detail}` });
    s.lastWrite.set(pool, at);
  }
  memory.set(pool, d.memory);
  events.observed(pool, d.to, d.bottleneck);
  if (d.notable) await events.decided(d, seen);
  return poolStatus(seen, policy, d.to, d.reason, d.bottleneck);
}

function poolStatus(seen: Observation, policy: ScalePolicy, desired: number, reason: string, bottleneck: boolean): PoolStatus {
  return {
    workers: seen.workers, slots: seen.slots, busy: seen.busy, utilization: seen.utilization, lag: seen.lag,
    throughput: Math.round(seen.throughput * 100) / 100, desired, min: policy.minSlots, max: policy.maxSlots, reason, bottleneck,
  };
}

function pick(seen: Observation) {
  return { workers: seen.workers, utilization: seen.utilization, lag: seen.lag, throughput: seen.throughput };
}
