// The two worker pools differ only in these numbers (Heijunka: fast work never waits behind slow
// work). The consumer settings in the topology and the worker loop both read them from here.

export const poolNames = ['fast', 'slow'] as const;
export type Pool = (typeof poolNames)[number];

export type PoolDefinition = {
  readonly pool: Pool;
  readonly stream: string;
  readonly consumer: string;
  /** Slots a worker process starts with, and the bounds the autoscaler and `tps scale` keep to. */
  readonly slots: { readonly initial: number; readonly min: number; readonly max: number };
  /** Longer than the p99.9 job time; long jobs send working() heartbeats before it runs out. */
  readonly ackWaitMs: number;
  /** Delay before each retry (nak with delay); max_deliver is one more than its length. */
  readonly retryBackoffMs: readonly number[];
  /** Per-attempt deadline a worker gives the service chain. */
  readonly attemptTimeoutMs: number;
};

export const poolDefinitions: Readonly<Record<Pool, PoolDefinition>> = {
  fast: {
    pool: 'fast',
    stream: 'JOBS_FAST',
    consumer: 'workers-fast',
    slots: { initial: 16, min: 2, max: 128 },
    ackWaitMs: 10_000,
    retryBackoffMs: [200, 1_000, 3_000],
    attemptTimeoutMs: 2_000,
  },
  slow: {
    pool: 'slow',
    stream: 'JOBS_SLOW',
    consumer: 'workers-slow',
    slots: { initial: 8, min: 1, max: 64 },
    ackWaitMs: 30_000,
    retryBackoffMs: [1_000, 5_000, 15_000],
    attemptTimeoutMs: 10_000,
  },
};

/**
 * Worker processes (replicas) per pool in native mode (WORKERS_FAST / WORKERS_SLOW, `tps scale
 * <pool> --replicas`). Capped at 8: each pool has a block of ten ports for its replicas
 * (platform/ports.ts), and eight pullers already outnumber a 2-core machine's cores.
 */
export const workerReplicas = { min: 1, max: 8 } as const;

export function maxDeliver(def: PoolDefinition): number {
  return def.retryBackoffMs.length + 1;
}

export function isPool(value: string): value is Pool {
  return (poolNames as readonly string[]).includes(value);
}
