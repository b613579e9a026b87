// What may be admitted as a job: a request of the job catalogue, and an Idempotency-Key that is
// well formed. Requests are untrusted input (POST /jobs bodies, the ingress's load shedding reads
// them too); each check answers the catalogue error that refuses the request, never throws.
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { describeIssues } from '../issue-words.ts';
import { findJobType, jobTypeNames, type JobType } from '../job-catalogue.ts';
import { idempotencyKeyPattern, type JobMessage } from '../job-message.ts';

const submitSchema = z.strictObject({
  type: z.string().min(1).max(100),
  payload: z.record(z.string(), z.unknown()).optional(),
});

export type Submission = { jobType: JobType; payload: Record<string, unknown> | undefined };

/** A job type of the catalogue, or the 400 that refuses the name. */
export function jobTypeOf(name: string): JobType | AppError {
  return findJobType(name) ?? new AppError('UNKNOWN_JOB_TYPE', { detail: `"${name}" is not one of: ${jobTypeNames.join(', ')}.` });
}

/** A parsed request body as a job of the catalogue, or the 400 that refuses it. */
export function readSubmission(value: unknown): Submission | AppError {
  const body = submitSchema.safeParse(value);
  if (!body.success) return new AppError('INVALID_REQUEST', { detail: describeIssues(body.error, value, { root: 'body' }) });
  const jobType = jobTypeOf(body.data.type);
  return jobType instanceof AppError ? jobType : { jobType, payload: body.data.payload };
}

/** The Idempotency-Key header: absent, a valid key, or the 400 that refuses it (an empty one too). */
export function readIdempotencyKey(header: string | string[] | undefined): string | undefined | AppError {
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !idempotencyKeyPattern.test(header)) return new AppError('INVALID_IDEMPOTENCY_KEY');
  return header;
}

/** The envelope of a new job, accepted now. */
export function newJob(id: string, jobType: JobType, payload: Submission['payload']): JobMessage {
  return { id, type: jobType.name, pool: jobType.pool, payload, acceptedAt: new Date().toISOString() };
}
