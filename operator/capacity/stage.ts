// Lab 3.5's history in Prometheus: three months of growth (growth-history.ts) ending 4 hours ago,
// in month-long blocks (promtool reads its input once per block; retention, 100 days, removes a
// block whole). No recording rules over it: the capacity plan reads raw series only.
import { historyWindow, stageHistory, type StageOptions } from '#operator/exam/stage.ts';
import { growthHistory } from './growth-history.ts';

export const growthDays = 90;

export function stageGrowth(opts: StageOptions): Promise<string> {
  const { start, end } = historyWindow(growthDays * 24);
  const openMetrics = () => growthHistory({ end, days: growthDays, ...(opts.instanceOf ? { instanceOf: opts.instanceOf } : {}) });
  return stageHistory({ what: `${growthDays} days of growing load`, start, end, openMetrics, blockHours: 31 * 24, rules: false }, opts);
}
