// What the ingress knows about each queue without asking JetStream per request: depth and
// capacity from a stream-info poll, and "full" as soon as a publish is refused for being full.
// Answering "queue full" from this state is what makes a rejection much cheaper than an accept.
import type { JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from '#platform/logger.ts';
import { gauge, metrics, type MetricsRegistry } from '#platform/metrics.ts';
import { poolDefinitions, poolNames, type Pool } from '#platform/pools.ts';

type PoolState = { depth: number; capacity: number; full: boolean; seenAt: number };

export type QueueState = {
  isFull(pool: Pool): boolean;
  allFull(): boolean;
  anyFull(): boolean;
  markFull(pool: Pool): void;
  /** True once every stream answered at least once and the last poll succeeded. */
  healthy(): boolean;
  snapshot(): Readonly<Record<Pool, Readonly<PoolState>>>;
  refresh(): Promise<void>;
  stop(): void;
};

export function trackQueues(jsm: JetStreamManager, opts: { registry: MetricsRegistry; logger: Logger; pollMs: number }): QueueState {
  const state = Object.fromEntries(poolNames.map((p) => [p, { depth: 0, capacity: 0, full: false, seenAt: 0 }])) as Record<Pool, PoolState>;
  const depthGauge = gauge(opts.registry, metrics.queueDepth);
  const capacityGauge = gauge(opts.registry, metrics.queueCapacity);
  let healthy = false;
  let warned = false;
  let stopped = false;

  async function refresh(): Promise<void> {
    try {
      for (const pool of poolNames) {
        const info = await jsm.streams.info(poolDefinitions[pool].stream);
        const s = state[pool];
        s.depth = info.state.messages;
        s.capacity = info.config.max_msgs;
        s.full = s.capacity > 0 && s.depth >= s.capacity;
        s.seenAt = Date.now();
        depthGauge.set({ pool }, s.depth);
        capacityGauge.set({ pool }, s.capacity);
      }
      healthy = true;
      warned = false;
    } catch (err) {
      healthy = false;
      if (!warned && !stopped) opts.logger.warn({ err }, 'cannot read queue state from JetStream; will keep trying');
      warned = true;
    }
  }

  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void refresh().finally(() => { running = false; });
  }, opts.pollMs);
  timer.unref();

  return {
    isFull: (pool) => state[pool].full,
    allFull: () => poolNames.every((p) => state[p].full),
    anyFull: () => poolNames.some((p) => state[p].full),
    markFull: (pool) => { state[pool].full = true; },
    healthy: () => healthy,
    snapshot: () => state,
    refresh,
    stop: () => { stopped = true; clearInterval(timer); },
  };
}
