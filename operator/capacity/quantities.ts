// The figures of a capacity plan a learner reports in lab 3.5 (`tps lab answer 3.5 load-12m=...`),
// each read off the plan as `tps capacity` prints it: one home for their names and meaning.
import type { Plan } from './forecast.ts';

const at = (p: Plan, months: number) => p.points.find((x) => x.months === months);

export const planQuantities = {
  /** Monthly growth, in %. */
  growth: (p: Plan) => p.monthlyGrowth * 100,
  'load-3m': (p: Plan) => at(p, 3)?.load,
  'load-6m': (p: Plan) => at(p, 6)?.load,
  'load-12m': (p: Plan) => at(p, 12)?.load,
  'peak-12m': (p: Plan) => at(p, 12)?.peak,
  /** Worker processes over every pool at 12 months. */
  'workers-12m': (p: Plan) => at(p, 12)?.workers,
  'cpu-12m': (p: Plan) => at(p, 12)?.cpuCores,
  'memory-12m': (p: Plan) => at(p, 12)?.memoryGiB,
  /** The first year's cost, each month provisioned for its peak. */
  'cost-year': (p: Plan) => p.costFirstYear,
} as const satisfies Record<string, (p: Plan) => number | undefined>;

export type PlanQuantity = keyof typeof planQuantities;
export const planQuantityNames = Object.keys(planQuantities) as [PlanQuantity, ...PlanQuantity[]];

/** A figure as a person writes it: "20", "20 %", "1,420", "$321", "4.0 GiB". */
export function parseFigure(text: string): number | undefined {
  const m = /-?\d[\d,]*(\.\d+)?/.exec(text.replace(/\s/g, ''));
  const value = m ? Number(m[0].replace(/,/g, '')) : NaN;
  return Number.isFinite(value) ? value : undefined;
}
