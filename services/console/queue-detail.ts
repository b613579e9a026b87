// Each pool's queue against its WIP limits, from JetStream itself (what /metrics does not carry):
// how long the oldest message has waited (a work queue's first message is its oldest), the
// deliveries its workers hold against the consumer's cap (max_ack_pending: the most a pool may
// have in flight), the pull requests waiting for work (idle worker slots asking), and redeliveries.
import type { JetStreamManager } from '@nats-io/jetstream';
import { poolDefinitions, poolNames } from '#platform/pools.ts';
import { html, type Html } from './html.ts';

export type QueueDetail = { oldestAgeMs?: number; ackPending: number; maxAckPending: number; pullsWaiting: number; redelivered: number };

/** Every pool's queue now; a pool whose stream or consumer cannot be read is left out. */
export async function readQueues(jsm: JetStreamManager, now = Date.now()): Promise<Record<string, QueueDetail>> {
  const read = async (pool: (typeof poolNames)[number]): Promise<[string, QueueDetail] | undefined> => {
    const { stream, consumer } = poolDefinitions[pool];
    try {
      const [s, c] = await Promise.all([jsm.streams.info(stream), jsm.consumers.info(stream, consumer)]);
      const first = Date.parse(s.state.first_ts);
      return [pool, {
        ...(s.state.messages > 0 && Number.isFinite(first) ? { oldestAgeMs: Math.max(0, now - first) } : {}),
        ackPending: c.num_ack_pending, maxAckPending: c.config.max_ack_pending ?? 0, pullsWaiting: c.num_waiting, redelivered: c.num_redelivered,
      }];
    } catch {
      return undefined;
    }
  };
  return Object.fromEntries((await Promise.all(poolNames.map(read))).filter((e): e is [string, QueueDetail] => e !== undefined));
}

const age = (ms: number) => (ms < 1_000 ? `${Math.round(ms)} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60_000)} min`);

export function renderQueueDetail(pool: string, detail: QueueDetail | undefined): Html {
  if (!detail) return html``;
  const full = detail.maxAckPending > 0 && detail.ackPending >= detail.maxAckPending;
  return html`<small data-testid="queue-detail-${pool}">oldest ${detail.oldestAgeMs === undefined ? 'none: empty' : `waiting ${age(detail.oldestAgeMs)}`}
 · ack pending <span class="${full ? 'mark-watch' : ''}" title="${full ? 'every delivery the consumer allows is out: new work waits' : ''}">${detail.ackPending}/${detail.maxAckPending || '∞'}</span>
 · ${detail.pullsWaiting} pull${detail.pullsWaiting === 1 ? '' : 's'} waiting${detail.redelivered ? ` · ${detail.redelivered} redelivered` : ''}</small>`;
}
