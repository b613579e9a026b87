// The no-loss audit, Jepsen style: from the ids the ingress accepted (A), read what the system
// knows of each and split A into completed (C), dead-lettered (D), in flight (F) and lost (L),
// with A = C + D + F + L. A job is lost when nothing can finish it any more:
//   - unknown: tps_jobs has no status for it at the end of the wait, or
//   - stuck: its status is accepted/processing but its pool's queue is empty (the worker stores
//     the final status before it acks, so an empty queue means no message is left to finish it).
// In flight: accepted/processing (or not yet known) while its pool's queue still holds messages.
// A dead-lettered job an operator replayed (`tps dlq replay`) is followed to its replacement
// (`replayedAs`, possibly several times) and counted by where that chain ends.
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { openJobStatusStore, type JobStatusStore, type JobView } from '#platform/job-status.ts';
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
  const watch = await answered(() => watchStatuses(nc, accepted, jsm), deadline);
  const status = await answered(() => openJobStatusStore(nc), deadline);
  try {
    for (;;) {
      const last = Date.now() >= deadline;
      // A read NATS cannot answer for a moment (a cluster electing a leader) is asked again at the
      // next poll; only the last poll's failure is the audit's.
      const result = await classify(accepted, watch, status, jsm, last).catch((err: unknown) => {
        if (last || !isTransientNatsError(err)) throw err;
        return undefined;
      });
      if (result && (last || result.inFlight === 0)) return await withDuplicates(result, accepted, opts.serviceCUrl);
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

async function classify(accepted: ReadonlySet<string>, watch: StatusWatch, status: JobStatusStore, jsm: JetStreamManager, final: boolean): Promise<AuditResult> {
  // Queues first, statuses second: a job gone from its queue had its final status stored before.
  const empty = await emptyPools(jsm);
  // Given up after 30 s without progress: 10 s was once too short for a loaded 2-core CI reading
  // a three-node cluster's bucket just after a partition healed (tests/nats-cluster.test.ts).
  await watch.catchUp(30_000);
  const r: AuditResult = { accepted: accepted.size, completed: 0, deadLettered: 0, replayed: 0, inFlight: 0, lost: 0, duplicates: null, lostIds: [], inFlightIds: [], deadLetteredIds: [], duplicateIds: [], unknownIds: [], duplicatesSource: '' };
  for (const id of accepted) {
    let view = watch.view(id);
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
