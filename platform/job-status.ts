// Job status in the `tps_jobs` KV bucket (TTL 1 h): the ingress records `accepted`, workers record
// `processing` and the terminal states. Writers never read-modify-write: each state is a new
// revision and a reader folds the key's history, so a late `accepted` can never hide `completed`.
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { createJetStreamPublisher } from './nats/jetstream-publisher.ts';
import { outboxOf } from './nats/outbox.ts';
import { withPublishRetry } from './nats/publish-retry.ts';
import { buckets } from './nats/subjects.ts';
import { poolNames } from './pools.ts';

export const jobStates = ['accepted', 'processing', 'completed', 'dead_lettered'] as const;
export type JobState = (typeof jobStates)[number];
const rank: Record<JobState, number> = { accepted: 0, processing: 1, completed: 2, dead_lettered: 2 };

export const jobStatusEntrySchema = z.object({
  state: z.enum(jobStates),
  at: z.string(),
  type: z.string(),
  pool: z.enum(poolNames),
  attempt: z.number().int().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  /** On a dead-lettered job that an operator replayed: the id of the new job (`tps dlq replay`). */
  replayedAs: z.string().optional(),
});
export type JobStatusEntry = z.infer<typeof jobStatusEntrySchema>;

export type JobView = {
  id: string;
  type: string;
  pool: string;
  status: JobState;
  attempts: number;
  acceptedAt?: string;
  startedAt?: string;
  finishedAt?: string;
  /** The latest failure: on a dead-lettered job, why; on a job still retrying, the last attempt's. */
  error?: { code: string; message: string };
  firstFailureAt?: string;
  /** Set once the dead-lettered job was replayed: the new job's id (follow it for the outcome). */
  replayedAs?: string;
};

export type JobStatusStore = {
  /** Waits for the write to be stored (terminal states, before the job message is acked). */
  record(id: string, entry: JobStatusEntry): Promise<void>;
  /** Fire and forget: never slows the caller's hot path. */
  note(id: string, entry: JobStatusEntry): void;
  read(id: string): Promise<JobView | undefined>;
  close(): void;
};

/**
 * How long a terminal write keeps trying while the bucket has no leader: a cluster's election takes
 * 5-8 s (docs/nats-cluster.md). Failing sooner turned a job whose call had succeeded into a failed
 * attempt, and a few of those in one election into a dead-lettered job.
 */
export const recordPatienceMs = 12_000;

export async function openJobStatusStore(nc: NatsConnection, opts: { patienceMs?: number } = {}): Promise<JobStatusStore> {
  const kv: KV = await new Kvm(nc).open(buckets.jobs);
  const subject = (id: string) => `$KV.${buckets.jobs}.${id}`;
  // Same as kv.put, through the coalescing publisher: workers write a status for every job.
  const outbox = outboxOf(nc);
  const publisher = withPublishRetry(createJetStreamPublisher(nc, { timeoutMs: 5_000 }), { timeoutMs: opts.patienceMs ?? recordPatienceMs });
  return {
    async record(id, entry) {
      // The id makes a retried write whose first copy was stored after all a duplicate, not a second revision.
      await publisher.publish(subject(id), Buffer.from(JSON.stringify(entry)), { msgID: `${id}:${entry.state}:${entry.attempt ?? 0}:${entry.at}` });
    },
    note(id, entry) {
      outbox.defer(() => nc.publish(subject(id), JSON.stringify(entry)));
    },
    read: async (id) => fold(id, await jobHistory(kv, id)),
    close: () => publisher.close(),
  };
}

/** A job's status entries in the order they were stored (the bucket keeps its history). */
export async function jobHistory(kv: KV, id: string): Promise<JobStatusEntry[]> {
  const entries: JobStatusEntry[] = [];
  for await (const e of await kv.history({ key: id })) {
    if (e.operation !== 'PUT') continue;
    const parsed = jobStatusEntrySchema.safeParse(safeJson(e.string()));
    if (parsed.success) entries.push(parsed.data);
  }
  return entries;
}

/** The job status bucket, for a reader that writes nothing (the console). */
export const openJobStatusBucket = (nc: NatsConnection): Promise<KV> => new Kvm(nc).open(buckets.jobs);

export function safeJson(text: string): unknown {
  try { return JSON.parse(text); } catch { return undefined; }
}

/** The view of a job from its status entries in any order: the highest state wins. */
export function fold(id: string, entries: readonly JobStatusEntry[]): JobView | undefined {
  if (entries.length === 0) return undefined;
  const latest = entries.reduce((best, e) => (rank[e.state] >= rank[best.state] ? e : best));
  const attempts = Math.max(0, ...entries.map((e) => e.attempt ?? 0));
  const first = (state: JobState) => entries.find((e) => e.state === state)?.at;
  const view: JobView = { id, type: latest.type, pool: latest.pool, status: latest.state, attempts };
  const acceptedAt = first('accepted');
  const startedAt = first('processing');
  if (acceptedAt) view.acceptedAt = acceptedAt;
  if (startedAt) view.startedAt = startedAt;
  if (rank[latest.state] === 2) view.finishedAt = latest.at;
  const failed = entries.filter((e) => e.error);
  const lastFailure = failed.reduce<JobStatusEntry | undefined>((last, e) => (!last || e.at >= last.at ? e : last), undefined);
  if (latest.state !== 'completed' && lastFailure?.error) view.error = lastFailure.error;
  const firstFailure = failed.reduce<string | undefined>((first, e) => (!first || e.at < first ? e.at : first), undefined);
  if (firstFailure) view.firstFailureAt = firstFailure;
  const replayed = entries.filter((e) => e.replayedAs).reduce<JobStatusEntry | undefined>((last, e) => (!last || e.at >= last.at ? e : last), undefined);
  if (replayed?.replayedAs) view.replayedAs = replayed.replayedAs;
  return view;
}
