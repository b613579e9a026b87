// The handbook's normal ranges (panels 2-7 of section 2.2, section 3), as marks on a snapshot's
// values: ok (normal), watch (look closer) or bad (act). `tps status` paints them in a terminal and
// the console (services/console/) colours its panels with them, so both say the same of a value.
import type { PoolView, Quantiles, Snapshot } from './snapshot.ts';

export type Mark = 'ok' | 'watch' | 'bad' | 'none';

/** The handbook's bands, named once (the console draws them on its charts). */
export const bands = {
  /** A queue's healthy fill under load (handbook 2.2, panel 2): 40-60 % of its maximum. */
  queueHealthy: { from: 0.4, to: 0.6 },
  queueWatch: 0.8,
  errorWatch: 0.001,
  errorBad: 0.01,
  busyWatch: 0.9,
  busyBad: 0.99,
  /** p99 above 10x p50: a long tail (handbook 2.2, panel 5). */
  tailRatio: 10,
  /** Completed below 80 % of incoming: the queue grows. */
  flowWatch: 0.8,
  cpuWatch: 90,
} as const;

export const queueMark = (p: PoolView): Mark => (p.queue.capacity === 0 ? 'none' : p.queue.fill >= 1 ? 'bad' : p.queue.fill >= bands.queueWatch ? 'watch' : 'ok');
export const busyMark = (p: PoolView): Mark => (p.workers.slots === 0 ? 'bad' : p.workers.utilization >= bands.busyBad ? 'bad' : p.workers.utilization > bands.busyWatch ? 'watch' : 'ok');
export const errorMark = (p: PoolView): Mark => (p.attemptsPerSec === 0 ? 'none' : p.errorRate > bands.errorBad ? 'bad' : p.errorRate > bands.errorWatch ? 'watch' : 'ok');
export const latencyMark = (q: Quantiles): Mark => (q.count === 0 ? 'none' : q.p50 > 0 && q.p99 > bands.tailRatio * q.p50 ? 'watch' : 'ok');
export const flowMark = (p: PoolView): Mark => (p.incomingPerSec === 0 ? 'none' : p.completedPerSec < bands.flowWatch * p.incomingPerSec ? 'watch' : 'ok');
export const dlqMark = (p: PoolView): Mark => (p.dlq.addedPerSec > 0 ? 'watch' : p.dlq.depth > 0 ? 'watch' : 'ok');
export const circuitMark = (state: Snapshot['circuits'][number]['state']): Mark => (state === 'open' ? 'bad' : state === 'half_open' ? 'watch' : 'ok');
export const roleMark = (r: Snapshot['roles'][number]): Mark => (!r.up ? 'bad' : r.cpuPercent > bands.cpuWatch ? 'watch' : 'ok');
export const rejectedMark = (r: Snapshot['rejected']): Mark => (r.perSec === 0 ? 'ok' : 'watch');

/** A share as the board and `tps status` write it: 0.5% below 1 %, whole percents above. */
export const pct = (x: number): string => `${(x * 100).toFixed(x > 0 && x < 0.01 ? 2 : 0)}%`;
/** Seconds as milliseconds: a decimal below 10 ms. */
export const ms = (s: number): string => `${s < 0.01 ? (s * 1000).toFixed(1) : Math.round(s * 1000)}`;
