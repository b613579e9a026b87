// Admitting a job: the one way a job enters its pool's queue, for POST /jobs (services/ingress/)
// and for a DLQ replay (platform/dlq/replay.ts). Inside a `send jobs.<pool>` PRODUCER span, whose
// trace context goes on to the worker in the message headers, the job is published with its id as
// Nats-Msg-Id and waits for JetStream's PubAck; then its `accepted` status is written and it is
// counted in tps_jobs_submitted_total. What may be admitted is submission.ts; a job with an
// Idempotency-Key goes through keyed.ts first, which ends here too.
import type { MsgHdrs } from '@nats-io/transport-node';
import { encodeJob, type JobMessage } from '../job-message.ts';
import type { JobStatusEntry, JobStatusStore } from '../job-status.ts';
import type { PubAck } from '../nats/jetstream-publisher.ts';
import { jobSubject } from '../nats/subjects.ts';
import { sendTraced } from '../nats/trace-headers.ts';
import { poolNames, type Pool } from '../pools.ts';
import type { CountSubmitted } from './submitted.ts';

export type PublishOptions = { msgID: string; headers?: MsgHdrs };

/**
 * Publishes one job and waits for its PubAck. Each caller brings its own: the ingress's
 * (coalescing, chaos faults at the boundary, failures as catalogue errors, a full queue noted in
 * its queue state at once) and a replay's (js.publish; its claim is given back when it fails).
 */
export type JobPublish = (subject: string, data: Uint8Array, opts: PublishOptions, job: JobMessage) => Promise<PubAck>;

export type Admission = {
  readonly publish: JobPublish;
  readonly jobStatus: JobStatusStore;
  readonly submitted: CountSubmitted;
  /**
   * How `accepted` is written. false (the ingress): without waiting, and only for a job JetStream
   * stored now, so the accept path never waits for it. true (a replay, a command that reports
   * when it is done): waited for, also when JetStream reports a duplicate, because the replay it
   * takes over may have died between its publish and this write.
   */
  readonly waitForStatus: boolean;
};

/** A replay's: headers the job carries (Tps-Replay-Of, ...), and the trace its span links to. */
export type AdmitExtras = { headers?: MsgHdrs; linkTo?: MsgHdrs };

/** Span names per pool (`send jobs.<pool>`), built once rather than per job. */
const queueOf = Object.fromEntries(poolNames.map((pool) => [pool, `jobs.${pool}`])) as Record<Pool, string>;

const accepted = (job: JobMessage): JobStatusEntry => ({ state: 'accepted', at: job.acceptedAt, type: job.type, pool: job.pool });

/** Publishes the job, then records it: its status, and the submitted count unless it is a duplicate. */
export async function admit(a: Admission, job: JobMessage, extras?: AdmitExtras): Promise<PubAck> {
  const subject = jobSubject(job.type);
  const data = encodeJob(job);
  const ack = await sendTraced({ subject, queue: queueOf[job.pool] }, { id: job.id, size: data.length, ...extras },
    (headers) => a.publish(subject, data, { msgID: job.id, ...(headers ? { headers } : {}) }, job));
  if (a.waitForStatus) await a.jobStatus.record(job.id, accepted(job));
  else if (!ack.duplicate) a.jobStatus.note(job.id, accepted(job));
  // A duplicate was counted by the admission that stored it first.
  if (!ack.duplicate) a.submitted(job.pool, job.type);
  return ack;
}
