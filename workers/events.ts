// A worker's business events, each owning its metrics, status write and log line.
import type { JobStatusStore } from '#platform/job-status.ts';
import type { JobMessage } from '#platform/job-message.ts';
import type { Logger } from '#platform/logger.ts';
import { jobCatalogue } from '#platform/job-catalogue.ts';
import { counter, histogram, knownLabels, labelSets, metrics, type MetricsRegistry } from '#platform/metrics.ts';
import type { Pool } from '#platform/pools.ts';
import { exemplarOf, type JobTrace } from '#platform/nats/trace-headers.ts';
import type { JobFailure } from './classify.ts';

export type WorkerEvents = ReturnType<typeof workerEvents>;

function createFamilies(registry: MetricsRegistry) {
  return {
    processed: counter(registry, metrics.jobsProcessed),
    processing: histogram(registry, metrics.jobProcessing),
    queueWait: histogram(registry, metrics.jobQueueWait),
    endToEnd: histogram(registry, metrics.jobEndToEnd),
    dlqAdded: counter(registry, metrics.dlqAdded),
  };
}

/** One set of metric families per registry, shared by the events of both pools. */
const families = new WeakMap<MetricsRegistry, ReturnType<typeof createFamilies>>();

export function workerEvents(pool: Pool, deps: { registry: MetricsRegistry; logger: Logger; status: JobStatusStore }) {
  let f = families.get(deps.registry);
  if (!f) families.set(deps.registry, (f = createFamilies(deps.registry)));
  const { processed, processing, queueWait, endToEnd, dlqAdded } = f;
  // This pool's job types by every outcome exist from the start at 0: "no failures yet" reads 0.
  // (The DLQ's reasons are error codes, not known up front.)
  const types = Object.values(jobCatalogue).filter((t) => t.pool === pool).map((t) => t.name);
  for (const labels of labelSets({ pool: [pool], type: types, outcome: knownLabels.outcome })) processed.inc(labels, 0);
  const seconds = (ms: number) => ms / 1000;

  return {
    // Each takes the job's trace: its id goes on the log lines, and on the latency histograms as
    // their exemplar only when the trace is sampled (exemplarOf).
    started(job: JobMessage, attempt: number, trace?: JobTrace): void {
      if (attempt === 1) queueWait.observe({ pool }, seconds(Math.max(0, Date.now() - Date.parse(job.acceptedAt))), exemplarOf(trace));
      deps.status.note(job.id, { state: 'processing', at: new Date().toISOString(), type: job.type, pool, attempt });
    },
    async succeeded(job: JobMessage, attempt: number, elapsedMs: number, trace?: JobTrace): Promise<void> {
      await deps.status.record(job.id, { state: 'completed', at: new Date().toISOString(), type: job.type, pool, attempt });
      processed.inc({ pool, type: job.type, outcome: 'success' });
      processing.observe({ pool, type: job.type }, seconds(elapsedMs), exemplarOf(trace));
      endToEnd.observe({ pool, type: job.type }, seconds(Date.now() - Date.parse(job.acceptedAt)), exemplarOf(trace));
    },
    retrying(job: JobMessage, attempt: number, failure: JobFailure, delayMs: number, elapsedMs: number, trace?: JobTrace): void {
      deps.status.note(job.id, { state: 'processing', at: new Date().toISOString(), type: job.type, pool, attempt, error: { code: failure.code, message: failure.message } });
      processed.inc({ pool, type: job.type, outcome: 'retry' });
      processing.observe({ pool, type: job.type }, seconds(elapsedMs), exemplarOf(trace));
      deps.logger.info({ job_id: job.id, trace_id: trace?.id, attempt, code: failure.code, retry_in_ms: delayMs }, `job attempt failed; retrying: ${failure.message}`);
    },
    /**
     * A successful attempt whose delivery had expired (its worker paused or blocked past
     * ack_wait): `completed` was stored again, and JetStream may have handed the job to another
     * worker meanwhile, whose call the service counts as a duplicate (R15).
     */
    succeededLate(job: JobMessage, attempt: number, trace?: JobTrace): void {
      deps.logger.info({ job_id: job.id, trace_id: trace?.id, attempt }, 'job attempt succeeded after its delivery expired (this worker was paused or blocked past ack_wait); another delivery may have run the job too, which the service counts as a duplicate');
    },
    /** A failed attempt whose delivery had expired (its worker paused or blocked past ack_wait). */
    abandoned(job: JobMessage, attempt: number, failure: JobFailure, elapsedMs: number, trace?: JobTrace): void {
      processed.inc({ pool, type: job.type, outcome: 'retry' });
      processing.observe({ pool, type: job.type }, seconds(elapsedMs), exemplarOf(trace));
      deps.logger.warn({ job_id: job.id, trace_id: trace?.id, attempt, code: failure.code }, `job attempt failed after its delivery expired (this worker was paused or blocked past ack_wait); its next delivery decides: ${failure.message}`);
    },
    async deadLettered(job: Pick<JobMessage, 'id' | 'type' | 'acceptedAt'>, attempt: number, failure: JobFailure, reason: string, trace?: JobTrace): Promise<void> {
      await deps.status.record(job.id, { state: 'dead_lettered', at: new Date().toISOString(), type: job.type, pool, attempt, error: { code: failure.code, message: failure.message } });
      processed.inc({ pool, type: job.type, outcome: 'dead_lettered' });
      dlqAdded.inc({ pool, reason: failure.code });
      const acceptedAt = Date.parse(job.acceptedAt);
      if (Number.isFinite(acceptedAt)) endToEnd.observe({ pool, type: job.type }, seconds(Date.now() - acceptedAt), exemplarOf(trace));
      deps.logger.warn({ job_id: job.id, trace_id: trace?.id, attempt, code: failure.code, reason }, `job dead-lettered: ${failure.message}`);
    },
  };
}
