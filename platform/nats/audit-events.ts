// Audit events: every change an operator, the autoscaler or a DLQ replay makes, published on
// `tps.events.<kind>` and kept by the EVENTS stream (`tps autoscaler status` and the console read
// them back). One publisher, so every event has the same envelope (kind, at, by) and a lost event
// never fails the change it describes: the caller only learns whether it was stored.
import type { JetStreamClient } from '@nats-io/jetstream';
import { eventSubject } from './subjects.ts';

export type AuditEnvelope = { kind: string; at: string; by: string };

/** Publishes `{kind, at, by, ...fields}` and waits for the EVENTS stream to store it. */
export async function publishAuditEvent(
  js: JetStreamClient,
  kind: string,
  by: string,
  fields: Readonly<Record<string, unknown>> = {},
  subject: string = eventSubject(kind),
): Promise<boolean> {
  const event: AuditEnvelope = { kind, at: new Date().toISOString(), by, ...fields };
  return js.publish(subject, JSON.stringify(event), { timeout: 5_000 }).then(() => true, () => false);
}
