// Why the autoscaler last moved each pool: its decision events (tps.events.autoscaler, kept by the
// EVENTS stream, as `tps autoscaler status` reads them), read at most every `refreshMs` while a
// page is open, and the last one per pool shown on the board's autoscaler line.
import { html, type Html } from './html.ts';
import type { DecisionEvent } from '#services/autoscaler/events.ts';

export type Decisions = { latest(): Promise<readonly DecisionEvent[]> };

export function decisionReader(read: () => Promise<DecisionEvent[]>, refreshMs: number): Decisions {
  let last: { at: number; events: readonly DecisionEvent[] } | undefined;
  let reading: Promise<readonly DecisionEvent[]> | undefined;
  return {
    latest() {
      if (last && Date.now() - last.at < refreshMs) return Promise.resolve(last.events);
      reading ??= read().then((events) => {
        last = { at: Date.now(), events };
        return events;
      }, () => last?.events ?? []).finally(() => { reading = undefined; });
      return reading;
    },
  };
}

const clock = (iso: string) => iso.slice(11, 19);

/** Per pool, the newest decision: a change (from -> to) or a notable hold, when and why. */
export function renderDecisions(pools: readonly string[], events: readonly DecisionEvent[]): Html {
  return html`<ul class="decisions">${pools.map((pool) => {
    const d = events.filter((e) => e.pool === pool).at(-1);
    if (!d) return html`<li data-testid="decision-${pool}">${pool}: no decision in the last hour</li>`;
    const what = d.direction === 'hold' ? `holding at ${d.from} slots` : `${d.from} -> ${d.to} slots`;
    return html`<li data-testid="decision-${pool}">${pool}: ${what} at ${clock(d.at)} UTC (${d.reason}): ${d.detail}</li>`;
  })}</ul>`;
}
