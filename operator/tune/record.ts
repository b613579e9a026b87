// A finished sweep is kept as an audit event, `tps.events.tune.measured`: the table the learner
// saw, who ran it and which kind of lever it measured. Lab 3.2 reads these back to see that each
// of its five kinds of parameter was measured, and the events are the record of "document all
// changes" that `tps status` and the Grafana annotations already show for the changes themselves.
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { publishAuditEvent } from '#platform/nats/audit-events.ts';
import { leverKind } from './levers.ts';
import type { TuneResult } from './tune.ts';

export const tuneMeasuredKind = 'tune.measured';

/** Publishes the sweep; false when the EVENTS stream did not store it (the sweep itself stands). */
export function recordSweep(nc: NatsConnection, result: TuneResult, by: string): Promise<boolean> {
  return publishAuditEvent(jetstream(nc), tuneMeasuredKind, by, {
    parameter: result.parameter, lever: leverKind(result.parameter), goal: result.goal, rate: result.rate,
    durationMs: result.durationMs, rows: result.rows, ...(result.best !== undefined ? { best: result.best } : {}),
  });
}
