// The job envelope on JOBS_* streams, and the job id rules. Messages are external input to the
// worker, so they are parsed with a schema, never trusted.
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { poolNames } from './pools.ts';

export const jobIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const jobMessageSchema = z.object({
  id: z.string().regex(jobIdPattern),
  type: z.string().min(1),
  pool: z.enum(poolNames),
  payload: z.unknown().optional(),
  acceptedAt: z.iso.datetime(),
  /** Set when a dead-lettered job is replayed (a new job): the id of the job it replays. */
  replayOf: z.string().optional(),
  /** How many replays this job is from the job first accepted: 1 for a replay of it, 2 for a
   * replay of that replay... (platform/dlq/replay.ts caps it at maxReplays). */
  replays: z.number().int().min(1).optional(),
});

export type JobMessage = z.infer<typeof jobMessageSchema>;

export function newJobId(): string {
  return randomUUID();
}

/** The same key always gives the same job id (a DLQ replay retried is one job). Client Idempotency-Keys
 * get a random id held in the idempotency store instead (platform/admission/keyed.ts). */
export function jobIdForKey(key: string): string {
  const hex = createHash('sha256').update(`tps-idempotency:${key}`).digest('hex');
  // Shaped like a UUID (version nibble 8, "custom") so ids look the same whichever way they came.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export const idempotencyKeyPattern = /^[\x21-\x7e]{1,200}$/;

export function encodeJob(job: JobMessage): Uint8Array {
  return Buffer.from(JSON.stringify(job));
}

export function decodeJob(data: Uint8Array): JobMessage {
  return jobMessageSchema.parse(JSON.parse(Buffer.from(data).toString('utf8')));
}
