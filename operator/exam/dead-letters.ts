// The dead letters a staged weekend left: jobs accepted and failed before the exam started, put
// into the DLQ through the workers' own path (platform/dlq/dead-letter.ts: the failure record in
// the headers, the job envelope as the body) with their status (accepted, then dead_lettered), so
// `tps dlq list|show|replay` and `GET /jobs/:id` treat them as any other. Only their times are
// the weekend's; they carry no trace (none was recorded), which the lab report says.
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { publishDeadLetter } from '#platform/dlq/dead-letter.ts';
import { findJobType } from '#platform/job-catalogue.ts';
import { encodeJob, newJobId, type JobMessage } from '#platform/job-message.ts';
import { openJobStatusStore } from '#platform/job-status.ts';
import { jobSubject } from '#platform/nats/subjects.ts';
import { maxDeliver, poolDefinitions } from '#platform/pools.ts';

export type DeadLetterSpec = { type: string; count: number; code: string; message: string };

/** Puts `count` dead letters of `type` into the DLQ, failed between `from` and `to`. */
export async function stageDeadLetters(nc: NatsConnection, spec: DeadLetterSpec, window: { from: Date; to: Date }, by: string): Promise<number> {
  const jobType = findJobType(spec.type);
  if (!jobType) throw new Error(`"${spec.type}" is not a job type`);
  const js = jetstream(nc);
  const status = await openJobStatusStore(nc);
  const span = window.to.getTime() - window.from.getTime();
  const attempts = maxDeliver(poolDefinitions[jobType.pool]);
  try {
    for (let i = 0; i < spec.count; i++) {
      const failedAt = new Date(window.from.getTime() + (span * (i + 1)) / (spec.count + 1));
      const accepted = new Date(failedAt.getTime() - 60_000);
      const job: JobMessage = { id: newJobId(), type: jobType.name, pool: jobType.pool, payload: { staged: 'weekend' }, acceptedAt: accepted.toISOString() };
      await status.record(job.id, { state: 'accepted', at: job.acceptedAt, type: job.type, pool: job.pool });
      await publishDeadLetter(js, encodeJob(job), undefined, {
        jobId: job.id, type: job.type, pool: job.pool, failure: { code: spec.code, message: spec.message }, reason: 'retries_exhausted',
        attempts, firstFailure: accepted.toISOString(), lastFailure: failedAt.toISOString(),
        originalSubject: jobSubject(job.type), originalSeq: 0, by,
      });
      await status.record(job.id, { state: 'dead_lettered', at: failedAt.toISOString(), type: job.type, pool: job.pool, attempt: attempts, error: { code: spec.code, message: spec.message } });
    }
  } finally {
    status.close();
  }
  return spec.count;
}
