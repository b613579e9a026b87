// Replaying a dead-lettered job once its root cause is fixed: a new job (new id, `replayOf` = the
// original id, a link to the original trace) admitted onto its pool's queue the way POST /jobs
// admits one (platform/admission/: send span, accepted status, submitted count), then the entry
// leaves the DLQ.
// The claim makes each entry replay at most once; the new id is derived from the entry, so a
// replay that died half-way and is taken over republishes the same job (JetStream drops the
// duplicate) instead of a second one. A job that came back to the DLQ after maxReplays replays
// is not replayed again (reliability matrix S11): each replay found its cause unfixed, and a
// script replaying the DLQ on a timer would otherwise loop a poison job for ever.
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { admit, type Admission, type AdmitExtras } from '../admission/admit.ts';
import { jobTypeOf } from '../admission/submission.ts';
import type { CountSubmitted } from '../admission/submitted.ts';
import { AppError } from '../errors.ts';
import { jobIdForKey, type JobMessage } from '../job-message.ts';
import type { JobStatusStore } from '../job-status.ts';
import { jobHeaders, streams } from '../nats/subjects.ts';
import type { Claims } from './claims.ts';
import type { DlqEntry } from './entries.ts';
import { publishReplayed } from './audit-events.ts';
import { isStreamFull } from '../nats/stream-errors.ts';

export type ReplayOutcome = { seq: number; jobId: string; type: string; pool: string; code: string } & (
  | { outcome: 'replayed' | 'would_replay'; newJobId: string }
  | { outcome: 'skipped' | 'failed'; why: string }
);

export type ReplayDeps = {
  js: JetStreamClient; jsm: JetStreamManager; claims: Claims; status: JobStatusStore; by: string;
  /**
   * A replayed job counts in tps_jobs_submitted_total with the labels any job has, its own pool and
   * type: it is a new job the workers process and count like any other, so submitted and processed
   * stay comparable (`pool:tps_jobs_submitted:rate1m` against completions, `tps status`'s incoming).
   * tps_dlq_replayed_total tells replays apart.
   */
  submitted: CountSubmitted;
};

export type ReplayOptions = { ratePerSecond: number; dryRun: boolean; onOutcome?: (o: ReplayOutcome) => void };

export const replayJobId = (entry: DlqEntry): string => jobIdForKey(`dlq-replay:${entry.firstSeq}:${entry.jobId}`);

/** The most replays of one job, counted from the job first accepted (JobMessage.replays). */
export const maxReplays = 3;

/** Why an entry's job is not replayed again, or undefined while it may be. */
export function replayCapReached(job: Pick<JobMessage, 'replays'>): string | undefined {
  const done = job.replays ?? 0;
  if (done < maxReplays) return undefined;
  return `replayed ${done} times already (at most ${maxReplays}), dead-lettered again each time: fix its cause (tps dlq show), then submit it anew, or purge it`;
}

export class QueueFullError extends Error {
  constructor(pool: string) {
    super(`the ${pool} queue is full; replay the rest later (or with a lower --rate)`);
    this.name = 'QueueFullError';
  }
}


/** Replays the entries in order, at most `ratePerSecond`; stops at a full queue. */
export async function replayEntries(entries: readonly DlqEntry[], deps: ReplayDeps, opts: ReplayOptions): Promise<ReplayOutcome[]> {
  const outcomes: ReplayOutcome[] = [];
  const started = Date.now();
  for (const [i, entry] of entries.entries()) {
    const due = started + (i * 1_000) / opts.ratePerSecond;
    if (!opts.dryRun && due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    const base = { seq: entry.seq, jobId: entry.jobId, type: entry.type, pool: entry.pool, code: entry.code };
    let outcome: ReplayOutcome;
    try {
      outcome = { ...base, ...(await replayEntry(entry, deps, opts.dryRun)) };
    } catch (err) {
      outcome = { ...base, outcome: 'failed', why: (err as Error).message };
      outcomes.push(outcome);
      opts.onOutcome?.(outcome);
      if (err instanceof QueueFullError) break;
      continue;
    }
    outcomes.push(outcome);
    opts.onOutcome?.(outcome);
  }
  return outcomes;
}

type Result = { outcome: 'replayed' | 'would_replay'; newJobId: string } | { outcome: 'skipped'; why: string };

async function replayEntry(entry: DlqEntry, deps: ReplayDeps, dryRun: boolean): Promise<Result> {
  const job = entry.job;
  if (!job) return { outcome: 'skipped', why: 'not a valid job message (nothing to replay; purge it)' };
  if (jobTypeOf(job.type) instanceof AppError) return { outcome: 'skipped', why: `job type ${job.type} is no longer in the catalogue` };
  const capped = replayCapReached(job);
  if (capped) return { outcome: 'skipped', why: capped };
  const newJobId = replayJobId(entry);
  if (dryRun) return { outcome: 'would_replay', newJobId };

  const claim = { action: 'replay' as const, state: 'claimed' as const, by: deps.by, at: new Date().toISOString(), newJobId };
  const won = await deps.claims.claim(entry, claim);
  if (!won.won) {
    const held = won.existing;
    if (held?.state === 'done') await deps.jsm.streams.deleteMessage(streams.dlq, entry.seq, false).catch(() => undefined);
    const what = held ? `${held.action === 'replay' ? 'replayed' : 'purged'}${held.state === 'claimed' ? ' (in progress)' : ''} by ${held.by}` : 'claimed by another operation';
    return { outcome: 'skipped', why: `already ${what}${held?.newJobId ? ` as job ${held.newJobId}` : ''}` };
  }

  const replayed: JobMessage = { id: newJobId, type: job.type, pool: job.pool, payload: job.payload, acceptedAt: new Date().toISOString(), replayOf: entry.jobId, replays: (job.replays ?? 0) + 1 };
  await admit(admission(entry, won.revision, deps), replayed, replayExtras(entry));
  // The original keeps its dead_lettered state and learns its successor, so `tps audit` and
  // `GET /jobs/:id` can follow a replayed job to its outcome.
  await deps.status.record(entry.jobId, { state: 'dead_lettered', at: replayed.acceptedAt, type: job.type, pool: job.pool, replayedAs: newJobId });
  await deps.claims.complete(entry, won.revision, claim);
  await deps.jsm.streams.deleteMessage(streams.dlq, entry.seq, false).catch(() => undefined);
  await publishReplayed(deps.js, deps.by, {
    seq: entry.seq, jobId: entry.jobId, newJobId, type: job.type, pool: job.pool, code: entry.code, ...(entry.traceId ? { traceId: entry.traceId } : {}),
  });
  return { outcome: 'replayed', newJobId };
}

/** A replay's admission: js.publish; when the publish fails, the claim is given back (nothing changed). */
function admission(entry: DlqEntry, revision: number, deps: ReplayDeps): Admission {
  const publish: Admission['publish'] = (subject, data, opts, job) => deps.js.publish(subject, data, { ...opts, timeout: 5_000 }).catch(async (err: unknown) => {
    await deps.claims.release(entry, revision).catch(() => undefined);
    throw isStreamFull(err) ? new QueueFullError(job.pool) : err;
  });
  return { publish, jobStatus: deps.status, submitted: deps.submitted, waitForStatus: true };
}

/** The replay headers (the original job's id and traceparent), and a span link to its trace. */
function replayExtras(entry: DlqEntry): AdmitExtras {
  const headers = natsHeaders();
  headers.set(jobHeaders.replayOf, entry.jobId);
  if (!entry.traceparent) return { headers };
  headers.set(jobHeaders.traceLink, entry.traceparent);
  const linkTo: MsgHdrs = natsHeaders();
  linkTo.set('traceparent', entry.traceparent);
  return { headers, linkTo };
}
