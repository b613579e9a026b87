// The NATS topology of ARCHITECTURE section 3, declared once. `tps provision` applies it
// idempotently; roles verify it at start. This is the only place limits are set.
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { Config } from '../config.ts';
import { maxDeliver, poolDefinitions, poolNames, type Pool } from '../pools.ts';
import { buckets, poolDlqSubjects, poolJobSubjects, streams } from './subjects.ts';

export type StreamDecl = Partial<StreamConfig> & Pick<StreamConfig, 'name' | 'subjects'>;
export type ConsumerDecl = { stream: string; config: Partial<ConsumerConfig> & { durable_name: string } };
export type Topology = { streams: StreamDecl[]; consumers: ConsumerDecl[] };

const hours = (n: number) => nanos(n * 3_600_000);

export const advisorySubject = (stream: string) => `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.*`;
/** One mover consumer per pool, so each worker handles (and may touch) only its own pool's jobs. */
export const dlqMoverConsumer = (pool: Pool) => `dlq-mover-${pool}`;

/**
 * A stream that the KV API can open as bucket `name` (same layout nats.js creates). Old entries go
 * first by default: job status must never make a worker's write fail. `discard: new` is for a
 * bucket that must never forget inside its TTL: when full it refuses new keys instead.
 */
function kvStream(name: string, opts: { history: number; ttlMs?: number; maxBytes?: number; replicas: number; discard?: DiscardPolicy }): StreamDecl {
  return {
    name: `KV_${name}`,
    subjects: [`$KV.${name}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_msgs_per_subject: opts.history,
    max_age: opts.ttlMs ? nanos(opts.ttlMs) : 0,
    max_bytes: opts.maxBytes ?? -1,
    discard: opts.discard ?? DiscardPolicy.Old,
    allow_rollup_hdrs: true,
    deny_delete: true,
    allow_direct: true,
    num_replicas: opts.replicas,
  };
}

type TopologyConfig = Pick<Config, 'queues' | 'workers' | 'idempotency'>;

export function declareTopology(config: TopologyConfig, replicas = 1): Topology {
  return {
    streams: [
      ...jobStreams(config, replicas),
      dlqStream(config, replicas),
      ...eventStreams(replicas),
      ...bucketStreams(config, replicas),
    ],
    consumers: [...jobConsumers(config), ...dlqMoverConsumers()],
  };
}

/** One work queue per pool. */
function jobStreams(config: TopologyConfig, replicas: number): StreamDecl[] {
  return poolNames.map((pool) => ({
    name: poolDefinitions[pool].stream,
    subjects: [poolJobSubjects(pool)],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    max_msgs: config.queues.capacity[pool],
    // Kanban: a full queue refuses new work instead of evicting old work.
    discard: DiscardPolicy.New,
    // Retries of a publish whose outcome is unknown (a timeout) are deduped by job id in this window.
    duplicate_window: nanos(config.idempotency.duplicateWindowMs),
    num_replicas: replicas,
  }));
}

/** The pool's durable pull consumer: its ack wait, delivery limit and in-flight bound. */
function jobConsumers(config: TopologyConfig): ConsumerDecl[] {
  return poolNames.map((pool) => {
    const def = poolDefinitions[pool];
    return {
      stream: def.stream,
      config: {
        durable_name: def.consumer,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(config.workers.ackWaitMs ?? def.ackWaitMs),
        max_deliver: maxDeliver(def),
        max_ack_pending: def.slots.max,
        max_waiting: 512,
      },
    };
  });
}

function dlqStream(config: TopologyConfig, replicas: number): StreamDecl {
  return {
    name: streams.dlq,
    subjects: poolNames.map(poolDlqSubjects),
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_msgs: config.queues.dlqCapacity,
    // Never evict a dead letter silently: when full, dead-lettering fails and the job stays queued.
    discard: DiscardPolicy.New,
    num_replicas: replicas,
  };
}

/** What happened, kept to be read later: max-deliveries advisories (a day) and audit events (a week). */
function eventStreams(replicas: number): StreamDecl[] {
  return [
    {
      name: streams.advisories,
      subjects: poolNames.map((pool) => advisorySubject(poolDefinitions[pool].stream)),
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: hours(24),
      max_msgs: 100_000,
      discard: DiscardPolicy.Old,
      num_replicas: replicas,
    },
    {
      name: streams.events,
      subjects: ['tps.events.>'],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: hours(24 * 7),
      max_msgs: 100_000,
      discard: DiscardPolicy.Old,
      num_replicas: replicas,
    },
  ];
}

function bucketStreams(config: TopologyConfig, replicas: number): StreamDecl[] {
  return [
    kvStream(buckets.jobs, { history: 8, ttlMs: 3_600_000, maxBytes: 256 * 1024 * 1024, replicas }),
    kvStream(buckets.chaos, { history: 1, replicas }),
    kvStream(buckets.control, { history: 5, replicas }),
    kvStream(buckets.dlq, { history: 1, ttlMs: 7 * 24 * 3_600_000, replicas }),
    kvStream(buckets.idempotency, {
      history: 1, ttlMs: config.idempotency.ttlMs, maxBytes: config.idempotency.maxBytes, replicas, discard: DiscardPolicy.New,
    }),
  ];
}

/** One per pool on the advisories stream, reading only that pool's max-deliveries advisories. */
function dlqMoverConsumers(): ConsumerDecl[] {
  return poolNames.map((pool) => ({
    stream: streams.advisories,
    config: {
      durable_name: dlqMoverConsumer(pool),
      filter_subject: advisorySubject(poolDefinitions[pool].stream),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(30_000),
      max_deliver: -1,
      max_ack_pending: 100,
    },
  }));
}
