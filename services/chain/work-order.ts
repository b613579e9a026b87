// What POST /work must hold, checked before the hop takes a slot: a known job type whose route
// goes through this service and, at the route's first hop, a payload that job type accepts (the
// hops after it get what the first one let through).
import { z } from 'zod';
import { AppError } from '#platform/errors.ts';
import { describeIssues } from '#platform/issue-words.ts';
import { findJobType, route, type ChainService, type JobType } from '#platform/job-catalogue.ts';

const workSchema = z.object({
  jobId: z.string().min(1).max(100),
  type: z.string().min(1).max(100),
  payload: z.unknown().optional(),
  attempt: z.number().int().min(1).max(1000).default(1),
});

export type WorkOrder = z.output<typeof workSchema> & {
  jobType: JobType;
  /** The service after this one on the job's route, if the job goes on. */
  nextHop: ChainService | undefined;
};

/** The request body as a work order for `service`; throws the AppError a bad one gets. */
export function parseWorkOrder(body: unknown, service: ChainService): WorkOrder {
  const parsed = workSchema.safeParse(body);
  if (!parsed.success) throw new AppError('INVALID_REQUEST', { detail: describeIssues(parsed.error, body, { root: 'body' }) });
  const { type, payload } = parsed.data;
  const jobType = findJobType(type);
  if (!jobType) throw new AppError('UNKNOWN_JOB_TYPE', { detail: `"${type}"` });
  const hops = route(jobType);
  const position = hops.indexOf(service);
  if (position < 0) throw new AppError('INVALID_REQUEST', { detail: `${type} jobs do not go through ${service}` });
  if (position === 0) {
    const valid = jobType.payload.safeParse(payload ?? {});
    if (!valid.success) throw new AppError('INVALID_PAYLOAD', { detail: describeIssues(valid.error, payload ?? {}, { root: 'payload' }) });
  }
  return { ...parsed.data, jobType, nextHop: hops[position + 1] };
}
