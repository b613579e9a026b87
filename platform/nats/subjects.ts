// Subject and resource names of ARCHITECTURE section 3, in one place.
import type { Pool } from '../pools.ts';

/** Streams besides the pools' job streams (those are in pools.ts). */
export const streams = {
  dlq: 'DLQ',
  advisories: 'ADVISORIES',
  /** Audit events (`tps.events.>`): every operator change, replay, purge and scaling decision. */
  events: 'EVENTS',
} as const;

export const buckets = {
  chaos: 'tps_chaos',
  control: 'tps_control',
  jobs: 'tps_jobs',
  /** One key per DLQ entry an operator replayed or purged: the compare-and-set claim. */
  dlq: 'tps_dlq',
  /** One key per Idempotency-Key (its SHA-256): the job it stands for, kept for the whole window. */
  idempotency: 'tps_idempotency',
} as const;

/** Job type names are `<pool>.<name>`, so `jobs.<type>` is `jobs.<pool>.<name>`. */
export const jobSubject = (type: string): string => `jobs.${type}`;
export const poolJobSubjects = (pool: Pool): string => `jobs.${pool}.*`;
export const dlqSubject = (type: string): string => `dlq.${type}`;
export const poolDlqSubjects = (pool: Pool): string => `dlq.${pool}.*`;
export const maxDeliveriesAdvisories = 'ADVISORY.CONSUMER.MAX_DELIVERIES';
export const heartbeatSubject = (role: string, instance: string): string => `tps.heartbeat.${role}.${instance}`;
export const eventSubject = (kind: string): string => `tps.events.${kind}`;
/** Audit events of the DLQ: a replay (per pool: that pool's workers count it) and a purge. */
export const dlqReplayedSubject = (pool: string): string => eventSubject(`dlq.replayed.${pool}`);
export const dlqPurgedSubject = eventSubject('dlq.purged');
/** Every process holding breakers answers here with their states (`tps breaker list`). */
export const breakerStatusSubject = 'tps.control.breakers';
/** Where the answers to one breaker status request go: a subject of its own rather than the
 * requester's inbox, so answering needs no right to publish into anyone's inbox (permissions.ts). */
export const breakerReplySubject = (id: string): string => `${breakerStatusSubject}.reply.${id}`;

/** Header names carried on job messages besides the W3C trace context. */
export const jobHeaders = {
  type: 'Tps-Job-Type',
  acceptedAt: 'Tps-Accepted-At',
  replayOf: 'Tps-Replay-Of',
  /** On a replayed job: the original job's traceparent, for a span link to its first trace. */
  traceLink: 'Tps-Trace-Link',
} as const;
