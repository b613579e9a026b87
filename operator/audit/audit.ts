// The no-loss audit, Jepsen style: from the ids the ingress accepted (A), read what the system
// knows of each and split A into completed (C), dead-lettered (D), in flight (F) and lost (L),
// with A = C + D + F + L. A job is lost when nothing can finish it any more:
//   - unknown: tps_jobs has no status for it at the end of the wait, or
//   - stuck: its status is accepted/processing but its pool's queue is empty (the worker stores
//     the final status before it acks, so an empty queue means no message is left to finish it).
// In flight: accepted/processing (or not yet known) while its pool's queue still holds messages.
// A dead-lettered job an operator replayed (`tps dlq replay`) is followed to its replacement
// (`replayedAs`, possibly several times) and counted by where that chain ends.
// A loss is never concluded from one read that may lag: each lost job is read again on its own,
// and before the wait ends a loss waits while a replica of the status bucket is catching up (a
// cluster just healed from a partition can answer from a replica that is behind).
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { openJobStatusStore, type JobStatusStore, type JobView } from '#platform/job-status.ts';
import { buckets } from '#platform/nats/subjects.ts';
import { poolDefinitions, poolNames, type Pool } from '#platform/pools.ts';
import { readDuplicates } from './duplicates.ts';
import { isTransientNatsError } from '#platform/nats/stream-errors.ts';
import { watchStatuses, type StatusWatch } from './status-watch.ts';

export { StatusReadError } from './status-watch.ts';

export type AuditOptions = {
  /** Keep polling until nothing is in flight or this much time has passed (default 0: one look). */
  waitMs?: number;
  /** service-c's base URL, to ask which jobs it did twice; without it duplicates are not counted. */
  serviceCUrl?: string;
  pollMs?: number;
  onPoll?: (partial: AuditResult) => void;
  /** Where the statuses are watched from (a test gives a watch that lags, as one reading a replica behind). */
  openWatch?: typeof watchStatuses;
};

export type AuditResult = {
  accepted: number;
  completed: number;
  deadLettered: number;
  /** Jobs that were dead-lettered and replayed; each is counted again by its replacement's outcome. */
  replayed: number;
  inFlight: number;
  lost: number;
  /** Accepted jobs service-c completed more than once; null when service-c could not be asked. */
  duplicates: number | null;
  lostIds: string[];
  inFlightIds: string[];
  deadLetteredIds: string[];
  duplicateIds: string[];
  /** Lost jobs the system has no status for at all (the rest of lostIds are stuck). */
  unknownIds: string[];
  duplicatesSource: string;
};

const defaults = { waitMs: 0, pollMs: 500 };

export async function auditJobs(nc: NatsConnection, ids: readonly string[], options: AuditOptions = {}): Promise<AuditResult> {
  const opts = { ...defaults, ...options };
  const accepted = new Set(ids);
  const deadline = Date.now() + opts.waitMs;
  const jsm = await answered(() => jetstreamManager(nc), deadline);
  const watch = await answered(() => (opts.openWatch ?? watchStatuses)(nc, accepted, jsm), deadline);
  const status = await answered(() => openJobStatusStore(nc), deadline);
  try {
    for (;;) {
      const last = Date.now() >= deadline;
      // A read NATS cannot answer for a moment (a cluster electing a leader) is asked again at the
      // next poll; only the last poll's failure is the audit's.
      const result = await look(accepted, watch, status, jsm, last).catch((err: unknown) => {
        if (last || !isTransientNatsError(err)) throw err;
        return undefined;
      });
      // A loss is concluded before the wait ends only while no replica of the bucket is behind.
      if (result && (last || (result.inFlight === 0 && (result.lost === 0 || await bucketWhole(jsm).catch(() => false))))) return await withDuplicates(result, accepted, opts.serviceCUrl);
      if (result) opts.onPoll?.(result);
      await new Promise((resolve) => setTimeout(resolve, Math.min(opts.pollMs, Math.max(1, deadline - Date.now()))));
    }
  } finally {
    watch.stop();
    status.close();
  }
}

/** `open`, asked again while NATS cannot answer for a moment (a cluster electing a leader), until the deadline. */
async function answered<T>(open: () => Promise<T>, deadline: number): Promise<T> {
  for (;;) {
    try {
      return await open();
    } catch (err) {
      if (Date.now() >= deadline || !isTransientNatsError(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** Replay chains are short (one replay per fix); the bound only stops a corrupt loop. */
const maxReplayHops = 20;

/** Where a replayed job's chain ends: the last replacement's view, or undefined if it is unknown. */
async function followReplays(view: JobView, status: JobStatusStore): Promise<JobView | undefined> {
  let current: JobView | undefined = view;
  for (let hop = 0; current?.replayedAs && hop < maxReplayHops; hop++) current = await status.read(current.replayedAs);
  return current;
}

type ViewOf = (id: string) => JobView | undefined;

async function classify(accepted: ReadonlySet<string>, viewOf: ViewOf, status: JobStatusStore, empty: ReadonlySet<Pool>, final: boolean): Promise<AuditResult> {
  const r: AuditResult = { accepted: accepted.size, completed: 0, deadLettered: 0, replayed: 0, inFlight: 0, lost: 0, duplicates: null, lostIds: [], inFlightIds: [], deadLetteredIds: [], duplicateIds: [], unknownIds: [], duplicatesSource: '' };
  for (const id of accepted) {
    let view = viewOf(id);
    if (view?.replayedAs) {
      r.replayed += 1;
      view = await followReplays(view, status);
    }
    if (view?.status === 'completed') r.completed += 1;
    else if (view?.status === 'dead_lettered') r.deadLetteredIds.push(id);
    else if (!view && (final || empty.size === poolNames.length)) r.unknownIds.push(id);
    else if (view && empty.has(view.pool as Pool)) r.lostIds.push(id);
    else r.inFlightIds.push(id);
  }
  r.lostIds.push(...r.unknownIds);
  r.deadLettered = r.deadLetteredIds.length;
  r.inFlight = r.inFlightIds.length;
  r.lost = r.lostIds.length;
  return r;
}

/** One poll: queues first, statuses second (a job gone from its queue had its final status stored before). */
async function look(accepted: ReadonlySet<string>, watch: StatusWatch, status: JobStatusStore, jsm: JetStreamManager, final: boolean): Promise<AuditResult> {
  const empty = await emptyPools(jsm);
  // Given up after 30 s without progress (a watch stuck short of the bucket is replaced after 5 s
  // of them): 10 s was once too short for a loaded 2-core CI reading a three-node cluster's
  // bucket just after a partition healed (tests/nats-cluster.test.ts).
  await watch.catchUp(30_000);
  const result = await classify(accepted, watch.view, status, empty, final);
  if (result.lost === 0) return result;
  // Each job the watch calls lost is read again on its own: a fresh read, which a watch that
  // read a lagging replica cannot stand in for.
  const fresh = new Map<string, JobView | undefined>();
  for (const id of result.lostIds) fresh.set(id, await status.read(id));
  return await classify(accepted, (id) => fresh.get(id) ?? watch.view(id), status, empty, final);
}

/** Whether every replica of the status bucket is current (always so on a single server). */
async function bucketWhole(jsm: JetStreamManager): Promise<boolean> {
  const { cluster } = await jsm.streams.info(`KV_${buckets.jobs}`);
  return !cluster || (Boolean(cluster.leader) && (cluster.replicas ?? []).every((replica) => replica.current));
}

async function emptyPools(jsm: JetStreamManager): Promise<Set<Pool>> {
  const empty = new Set<Pool>();
  for (const pool of poolNames) {
    const info = await jsm.streams.info(poolDefinitions[pool].stream);
    if (info.state.messages === 0) empty.add(pool);
  }
  return empty;
}

async function withDuplicates(r: AuditResult, accepted: ReadonlySet<string>, serviceCUrl?: string): Promise<AuditResult> {
  if (!serviceCUrl) return { ...r, duplicatesSource: 'not asked (no service-c URL)' };
  const report = await readDuplicates(serviceCUrl);
  if (!report.available) return { ...r, duplicatesSource: `${report.source}: ${report.reason}` };
  const duplicateIds = report.keys.filter((k) => accepted.has(k));
  return { ...r, duplicates: duplicateIds.length, duplicateIds, duplicatesSource: report.source };
}
