// The queue size as a live lever (lab 3.2's "queue max size"): a pool's stream max_msgs, changed
// through the safe re-provisioning path. The topology is provisioned with the new size, so the
// shrink guard refuses a size below what the queue holds (nothing accepted is lost to a lever),
// then the size is kept in tps_control, which every later provisioning reads (`tps up`,
// `tps provision`, compose's provision service): a restart does not undo it; resetting it gives
// <POOL>_QUEUE_CAPACITY back. The ingress reads max_msgs from the stream every QUEUE_POLL_MS, so
// its refusals follow within a poll. Each change is an audit event (config.set / config.reset).
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Config } from '../config.ts';
import { openControlStore } from '../control/store.ts';
import { poolNames, type Pool } from '../pools.ts';
import { publishAuditEvent } from './audit-events.ts';
import { provision, ProvisionRefused, TopologyError, type ProvisionAction, type ProvisionOptions } from './provision.ts';
import { declareTopology } from './topology.ts';

/** What provisioning reads: the topology's settings and the streams' replicas (NATS_STREAM_REPLICAS). */
type TopologyConfig = Parameters<typeof declareTopology>[0] & { nats: Pick<Config['nats'], 'streamReplicas'> };
export type QueueSizes = Partial<Record<Pool, number>>;
export const queueLeverName = (pool: Pool) => `pool.${pool}.queue`;
/** The sizes the lever takes: <POOL>_QUEUE_CAPACITY's range. */
export const queueSizeRange = { min: 1, max: 10_000_000 } as const;

/** The sizes set live, from tps_control; none before the first provisioning made the bucket. */
export async function queueOverrides(nc: NatsConnection): Promise<QueueSizes> {
  const control = await openControlStore(nc).catch(() => undefined);
  if (!control) return {};
  const sizes: QueueSizes = {};
  for (const pool of poolNames) {
    const set = await control.queue(pool).catch(() => undefined);
    if (set) sizes[pool] = set.capacity;
  }
  return sizes;
}

export function withQueueSizes<C extends TopologyConfig>(config: C, sizes: QueueSizes): C {
  return { ...config, queues: { ...config.queues, capacity: { ...config.queues.capacity, ...sizes } } };
}

/** Provisioning as `tps up` and `tps provision` do it: the configuration, with the sizes set live. */
export async function provisionWithOverrides(nc: NatsConnection, config: TopologyConfig, opts: ProvisionOptions = {}): Promise<ProvisionAction[]> {
  return provision(nc, declareTopology(withQueueSizes(config, await queueOverrides(nc)), config.nats.streamReplicas), opts);
}

export type QueueChange = { pool: Pool; capacity: number; previous: number; actions: ProvisionAction[] };

/** Sets the pool's queue size (`undefined`: back to the configured size); throws ProvisionRefused when it would delete jobs. */
export async function setQueueSize(nc: NatsConnection, config: Config, pool: Pool, capacity: number | undefined, by: string, opts: ProvisionOptions = {}): Promise<QueueChange> {
  const sizes = await queueOverrides(nc);
  const previous = sizes[pool] ?? config.queues.capacity[pool];
  const next = capacity ?? config.queues.capacity[pool];
  const actions = await provision(nc, declareTopology(withQueueSizes(config, { ...sizes, [pool]: next }), config.nats.streamReplicas), opts).catch((err: unknown) => {
    // The refusal's way out names this size too, or running it would provision the old one.
    if (err instanceof ProvisionRefused) throw new TopologyError(err.message.replace(/tps provision --force /, `tps provision --queue ${pool}=${capacity ?? 'default'} --force `));
    throw err;
  });
  const control = await openControlStore(nc);
  await control.setQueue(pool, capacity, { by, at: new Date().toISOString() });
  const name = queueLeverName(pool);
  await publishAuditEvent(jetstream(nc), capacity === undefined ? 'config.reset' : 'config.set', by, capacity === undefined ? { name, from: previous } : { name, from: previous, to: capacity });
  return { pool, capacity: next, previous, actions };
}
