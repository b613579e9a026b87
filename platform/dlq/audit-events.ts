// DLQ audit events, kept by the EVENTS stream: each replay (one event per entry, which the
// workers count as tps_dlq_replayed_total) and each purge.
import type { JetStreamClient } from '@nats-io/jetstream';
import { eventSubject } from '../nats/subjects.ts';

export const dlqEventSubjects = {
  replayed: (pool: string) => eventSubject(`dlq.replayed.${pool}`),
  purged: eventSubject('dlq.purged'),
} as const;

export type ReplayedEvent = {
  kind: 'dlq.replayed'; at: string; by: string;
  seq: number; jobId: string; newJobId: string; type: string; pool: string; code: string; traceId?: string;
};
export type PurgedEvent = { kind: 'dlq.purged'; at: string; by: string; filter: string; count: number; seqs: number[] };

/** Audit events must not fail the operation they describe; a lost one is logged by the caller. */
export async function publishEvent(js: JetStreamClient, subject: string, event: ReplayedEvent | PurgedEvent): Promise<boolean> {
  return js.publish(subject, JSON.stringify(event), { timeout: 5_000 }).then(() => true, () => false);
}
