// Job status in the `tps_jobs` KV bucket (TTL 1 h): the ingress records `accepted`, workers record
// `processing` and the terminal states. Writers never read-modify-write: each write is a new entry
// and a reader folds a job's entries, so a late `accepted` can never hide `completed`.
//
// Every write has a key of its own (`<id>.accepted`, `<id>.started.<attempt>`, `<id>.done`, ...,
// statusKey), not one key per job with a revision per state. nats-server 2.9 removes the oldest
// entry of a key that has newer ones (TTL expiry, or the bucket at its 256 MiB) by scanning the
// stream from it to the key's next entry; with a queue in front of the workers that is every write
// of every job accepted in between, and the bucket's removals then cost nats-server 10-30x a write
// (docs/benchmarks.md#job-status-at-a-full-bucket-make-bench-status). A key with one entry is
// removed without a scan. A reader gets each key's entry by subject, from the stream's leader.
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
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
  await new Kvm(nc).open(buckets.jobs); // fails now, clearly, when the bucket is missing
  const reader = await openJobStatusReader(nc);
  // Same as kv.put, through the coalescing publisher: workers write a status for every job.
  const outbox = outboxOf(nc);
  const publisher = withPublishRetry(createJetStreamPublisher(nc, { timeoutMs: 5_000 }), { timeoutMs: opts.patienceMs ?? recordPatienceMs });
  return {
    async record(id, entry) {
      // The id makes a retried write whose first copy was stored after all a duplicate, not a second entry.
      await publisher.publish(statusSubject(id, entry), Buffer.from(JSON.stringify(entry)), { msgID: `${id}:${entry.state}:${entry.attempt ?? 0}:${entry.at}` });
    },
    note(id, entry) {
      outbox.defer(() => nc.publish(statusSubject(id, entry), JSON.stringify(entry)));
    },
    read: async (id) => fold(id, await reader.history(id)),
    close: () => publisher.close(),
  };
}

/**
 * The key of one status write: `<id>.accepted`, `<id>.started.<n>` and `<id>.failed.<n>` (attempt n
 * began; failed and will be retried), `<id>.done` (completed or dead-lettered), `<id>.replayed` (an
 * operator replayed the dead-lettered job). One entry per key, bar a rare repeat (a terminal state
 * stored again by the job's next delivery), which a reader may miss only where fold would too.
 */
export function statusKey(id: string, entry: JobStatusEntry): string {
  if (entry.replayedAs) return `${id}.replayed`;
  switch (entry.state) {
    case 'accepted': return `${id}.accepted`;
    case 'processing': return `${id}.${entry.error ? 'failed' : 'started'}.${entry.attempt ?? 0}`;
    default: return `${id}.done`;
  }
}

const statusSubject = (id: string, entry: JobStatusEntry) => `$KV.${buckets.jobs}.${statusKey(id, entry)}`;

/** The job id a status key belongs to (a key written before statusKey was the bare id). */
export const jobIdOfStatusKey = (key: string): string => {
  const dot = key.indexOf('.');
  return dot === -1 ? key : key.slice(0, dot);
};

/** Every job's terminal writes (`completed` or `dead_lettered`), for a subscriber that watches jobs end. */
export const terminalStatusSubjects = `$KV.${buckets.jobs}.*.done`;
/** The job id of a status write's subject. */
export const jobIdOfStatusSubject = (subject: string): string => jobIdOfStatusKey(subject.slice(`$KV.${buckets.jobs}.`.length));

export type JobStatusReader = {
  /** A job's status entries in the order they were stored. */
  history(id: string): Promise<JobStatusEntry[]>;
};

/** Attempts are read two at a time while an entry read so far names a later attempt (a terminal
 * entry names the last); a job rarely has more than one. */
const attemptsPerRead = 2;
/** Bounds the read of a corrupt bucket; no pool lets a job be delivered this often. */
const maxAttempts = 1_000;

/**
 * Reads a job's keys by subject from the bucket's stream leader (STREAM.MSG.GET): a fresh read, which
 * `tps audit` needs after a cluster's partition, where a direct get may be answered by a replica
 * still catching up. Each key is one lookup, however large the bucket; a history read (an ordered
 * consumer on the job's subject) cost nats-server 28 ms per job in a bucket near its 256 MiB.
 */
export async function openJobStatusReader(nc: NatsConnection): Promise<JobStatusReader> {
  const jsm: JetStreamManager = await jetstreamManager(nc, { checkAPI: false });
  const stream = `KV_${buckets.jobs}`;
  const get = async (key: string) => {
    const m = await jsm.streams.getMessage(stream, { last_by_subj: `$KV.${buckets.jobs}.${key}` });
    if (!m || m.data.length === 0) return undefined;
    const parsed = jobStatusEntrySchema.safeParse(safeJson(m.string()));
    return parsed.success ? { seq: m.seq, entry: parsed.data } : undefined;
  };
  const attempts = (id: string, from: number) => Array.from({ length: attemptsPerRead }, (_, i) => [`${id}.started.${from + i}`, `${id}.failed.${from + i}`]).flat();
  return {
    async history(id) {
      // The bare id: a status written by a version before statusKey, inside the bucket's TTL.
      const found = (await Promise.all([id, `${id}.accepted`, `${id}.done`, `${id}.replayed`, ...attempts(id, 1)].map(get))).filter((e) => e !== undefined);
      for (let from = 1 + attemptsPerRead; from <= maxAttempts; from += attemptsPerRead) {
        if (!found.some((e) => (e.entry.attempt ?? 0) >= from - 1)) break;
        found.push(...(await Promise.all(attempts(id, from).map(get))).filter((e) => e !== undefined));
      }
      return found.sort((a, b) => a.seq - b.seq).map((e) => e.entry);
    },
  };
}

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
