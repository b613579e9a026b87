// The worker pools, the one table everything about a pool derives from (Heijunka: fast work never
// waits behind slow work). The topology, the worker role and its NATS user, ports, configuration
// variables, compose services, scrape jobs, dashboards and SLOs all read it: adding a pool is an
// entry here plus its job types in job-catalogue.ts, then `make generate` (docs/architecture.md,
// "Add a pool"). Pools differ only in these numbers.

/** What distinguishes one pool from another; PoolDefinition adds the pool's name. */
export type PoolSettings = {
  readonly description: string;
  readonly stream: string;
  readonly consumer: string;
  /** Metrics port of the pool's worker role (its first replica); replica k (2..8) listens on
   * replicaPortBase + k. Each pool takes a block of ten ports clear of every other port. */
  readonly port: number;
  readonly replicaPortBase: number;
  /** `max_msgs` of the stream unless <POOL>_QUEUE_CAPACITY says otherwise. */
  readonly queueCapacity: number;
  /** The latency SLO: 99 % of the pool's jobs finish end to end within this many seconds. */
  readonly latencySloSeconds: number;
  /** Worker containers `docker compose up` starts for the pool (`--scale worker-<pool>=N` changes it). */
  readonly composeReplicas: number;
  /** Slots a worker process starts with, and the bounds the autoscaler and `tps scale` keep to. */
  readonly slots: { readonly initial: number; readonly min: number; readonly max: number };
  /** Longer than the p99.9 job time; long jobs send working() heartbeats before it runs out. */
  readonly ackWaitMs: number;
  /** Delay before each retry (nak with delay); max_deliver is one more than its length. */
  readonly retryBackoffMs: readonly number[];
  /** Per-attempt deadline a worker gives the service chain. */
  readonly attemptTimeoutMs: number;
};

const pools = {
  fast: {
    description: 'short jobs (~5-15 ms), many slots',
    stream: 'JOBS_FAST',
    consumer: 'workers-fast',
    port: 9464,
    replicaPortBase: 9470,
    queueCapacity: 1_000,
    latencySloSeconds: 0.25,
    composeReplicas: 2,
    slots: { initial: 16, min: 2, max: 128 },
    ackWaitMs: 10_000,
    retryBackoffMs: [200, 1_000, 3_000],
    attemptTimeoutMs: 2_000,
  },
  slow: {
    description: 'long jobs through the whole chain (~0.3-1 s), few slots',
    stream: 'JOBS_SLOW',
    consumer: 'workers-slow',
    port: 9465,
    replicaPortBase: 9480,
    queueCapacity: 200,
    latencySloSeconds: 5,
    composeReplicas: 1,
    slots: { initial: 8, min: 1, max: 64 },
    ackWaitMs: 30_000,
    retryBackoffMs: [1_000, 5_000, 15_000],
    attemptTimeoutMs: 10_000,
  },
} as const satisfies Record<string, PoolSettings>;

export type Pool = keyof typeof pools;
export const poolNames = Object.keys(pools) as Pool[];
export type PoolDefinition = PoolSettings & { readonly pool: Pool };
export const poolDefinitions = Object.fromEntries(poolNames.map((pool) => [pool, { ...pools[pool], pool }])) as unknown as Readonly<Record<Pool, PoolDefinition>>;

/** The pool's worker role and its NATS user: `worker-fast`. */
export const workerRole = <P extends Pool>(pool: P): `worker-${P}` => `worker-${pool}`;
/** The prefix of the pool's own configuration variables: `FAST` in FAST_QUEUE_CAPACITY, WORKERS_FAST. */
export const poolVariable = (pool: Pool): string => pool.toUpperCase().replace(/-/g, '_');

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
