// DLQ audit events, kept by the EVENTS stream: each replay (one event per entry, which the workers
// count as tps_dlq_replayed_total) and each purge. The schemas are the contract both sides use:
// the replaying command sends what the worker parses.
import type { JetStreamClient } from '@nats-io/jetstream';
import { z } from 'zod';
import { publishAuditEvent } from '../nats/audit-events.ts';
import { dlqPurgedSubject, dlqReplayedSubject } from '../nats/subjects.ts';

export const dlqEventSubjects = { replayed: dlqReplayedSubject, purged: dlqPurgedSubject } as const;

export const replayedEventSchema = z.object({
  seq: z.number().int(), jobId: z.string(), newJobId: z.string(), type: z.string(), pool: z.string(), code: z.string(), traceId: z.string().optional(),
});
export type ReplayedEvent = z.infer<typeof replayedEventSchema>;

export const purgedEventSchema = z.object({ filter: z.string(), count: z.number().int(), seqs: z.array(z.number().int()) });
export type PurgedEvent = z.infer<typeof purgedEventSchema>;

/** Audit events must not fail the operation they describe; a lost one is logged by the caller. */
export function publishReplayed(js: JetStreamClient, by: string, event: ReplayedEvent): Promise<boolean> {
  return publishAuditEvent(js, 'dlq.replayed', by, replayedEventSchema.parse(event), dlqEventSubjects.replayed(event.pool));
}

export function publishPurged(js: JetStreamClient, by: string, event: PurgedEvent): Promise<boolean> {
  return publishAuditEvent(js, 'dlq.purged', by, purgedEventSchema.parse(event), dlqEventSubjects.purged);
}
