// Pools: fast and slow side by side, every panel in two copies (handbook example 4, partial
// failure: the slow pool's breaker open and its queue full while the fast pool stays green).
import { pools } from '../promql.ts';
import { dashboard, row } from './model.ts';
import {
  circuitPanel, dlqPanels, errorRatePanel, latencyPanel, queueDepthPanel, queueFillPanel, queueWaitPanel, slotsPanel, throughputPanel,
  utilizationPanel,
} from './panels.ts';

type Built = ReturnType<typeof queueDepthPanel>;
const size = (w: number, h?: number) => (p: Built): Built => ({ ...p, size: { w, h: h ?? p.size.h } });

/** Each pool's copy of the panels, 12 columns per pool: fast on the left, slow on the right. */
function perPool(build: (pool: string) => Built[]): Built[] {
  return pools.flatMap((pool) => build(pool).map((p) => ({ ...p, title: `${p.title} · ${pool}` })));
}

export const poolsDashboard = dashboard({
  uid: 'tps-pools',
  title: `TPS pools: ${pools.join(' vs ')}`,
  description: 'The fast and the slow pool side by side (Heijunka): one pool in trouble must not take the other down.',
  panels: [
    row('Breaker, queue, workers'),
    ...perPool((pool) => [circuitPanel(`worker-${pool}->service-a`), queueFillPanel(pool), utilizationPanel(pool)].map(size(4, 8))),
    ...perPool((pool) => [queueDepthPanel(pool)].map(size(12))),
    ...perPool((pool) => [slotsPanel(pool)].map(size(12))),
    row('Errors, latency, throughput'),
    ...perPool((pool) => [errorRatePanel(pool)].map(size(12))),
    ...perPool((pool) => [latencyPanel(pool)].map(size(12))),
    ...perPool((pool) => [queueWaitPanel(pool)].map(size(12))),
    ...perPool((pool) => [throughputPanel(pool)].map(size(12))),
    row('Dead-letter queue'),
    ...perPool((pool) => dlqPanels(pool).slice(0, 2).map(size(6))),
  ],
});
