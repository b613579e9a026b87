// The autoscaler's business events, each owning its metrics, log line and audit event: every
// decision (a change of slots, or entering a notable hold) is counted, logged and published on
// tps.events.autoscaler with its reason and what the autoscaler saw.
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Logger } from '#platform/logger.ts';
import { counter, gauge, metrics, type MetricsRegistry } from '#platform/metrics.ts';
import { publishAuditEvent } from '#platform/nats/audit-events.ts';
import { eventSubject } from '#platform/nats/subjects.ts';
import { poolNames, type Pool } from '#platform/pools.ts';
import type { Decision } from './decide.ts';
import type { Observation } from './signals.ts';

export const autoscalerEventSubject = eventSubject('autoscaler');

export type DecisionEvent = {
  kind: 'autoscaler.decision';
  at: string;
  instance: string;
  pool: Pool;
  direction: Decision['direction'];
  from: number;
  to: number;
  reason: string;
  detail: string;
  signals: { workers: number; utilization: number; lag: number; throughput: number };
};

export function autoscalerEvents(deps: { registry: MetricsRegistry; logger: Logger; js: JetStreamClient; instance: string }) {
  const decisions = counter(deps.registry, metrics.autoscalerDecisions);
  const desired = gauge(deps.registry, metrics.autoscalerDesiredSlots);
  const enabled = gauge(deps.registry, metrics.autoscalerEnabled);
  const bottleneck = gauge(deps.registry, metrics.autoscalerBottleneck);
  // Every series exists from the start at 0, so rate() and increase() show 0, not "no data".
  for (const pool of poolNames) for (const direction of ['up', 'down', 'hold'] as const) decisions.inc({ pool, direction }, 0);
  let mode: boolean | undefined;

  return {
    mode(on: boolean, by: string | undefined): void {
      enabled.set(on ? 1 : 0);
      if (mode !== undefined && mode !== on) {
        deps.logger.warn({ enabled: on, by }, on ? `autoscaler enabled${by ? ` by ${by}` : ''}` : `autoscaler disabled${by ? ` by ${by}` : ''}: slots are under manual control`);
      }
      mode = on;
    },
    observed(pool: Pool, slots: number, isBottleneck: boolean): void {
      desired.set({ pool }, slots);
      bottleneck.set({ pool }, isBottleneck ? 1 : 0);
    },
    async decided(d: Decision, seen: Observation): Promise<void> {
      decisions.inc({ pool: d.pool, direction: d.direction });
      const event: Omit<DecisionEvent, 'kind' | 'at'> = {
        instance: deps.instance, pool: d.pool, direction: d.direction, from: d.from, to: d.to, reason: d.reason, detail: d.detail,
        signals: { workers: seen.workers, utilization: round(seen.utilization), lag: seen.lag, throughput: round(seen.throughput) },
      };
      const line = d.direction === 'hold' ? `${d.pool}: holding at ${d.from} slots (${d.reason}): ${d.detail}` : `${d.pool}: slots ${d.from} -> ${d.to} (${d.reason}): ${d.detail}`;
      deps.logger.info({ pool: d.pool, direction: d.direction, from: d.from, to: d.to, reason: d.reason }, line);
      const stored = await publishAuditEvent(deps.js, 'autoscaler.decision', `autoscaler (${deps.instance})`, event, autoscalerEventSubject);
      if (!stored) deps.logger.warn('could not publish the decision event');
    },
  };
}

const round = (x: number) => Math.round(x * 100) / 100;
