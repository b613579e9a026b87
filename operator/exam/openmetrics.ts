// The OpenMetrics text `promtool tsdb create-blocks-from openmetrics` reads, from values per
// step: counters as running totals that never fall, histograms with cumulative buckets and
// le="+Inf" equal to _count, samples in time order with timestamps in seconds, then `# EOF`.
import { latencyBuckets, type MetricDef } from '#platform/metrics.ts';
import { roleSpecs, type RoleName } from '#platform/roles.ts';

export type Labels = Readonly<Record<string, string>>;
/** One step of a histogram: the step's observations per bucket (cumulative over `le`, in the family's bucket order), their sum and count. */
export type HistogramStep = { buckets: readonly number[]; sum: number; count: number };
/**
 * A gauge's value or a counter's increment at each timestamp (a counter with no label set known
 * in advance, `fromFirstEvent`, appears at its first event); or a histogram's observations at each
 * timestamp (the label set appears at its first observation, as prom-client creates it).
 */
export type TextSeries = { labels: Labels; values: readonly number[]; fractional?: boolean; fromFirstEvent?: boolean } | { labels: Labels; observed: readonly HistogramStep[] };
export type TextFamily = { def: MetricDef; series: readonly TextSeries[] };

/** OpenMetrics escapes backslash, double quote and newline in label values and help texts. */
const escaped = (text: string) => text.replace(/[\\"]/g, '\\$&').replace(/\n/g, '\\n');
const labelText = (labels: Labels) => Object.entries(labels).map(([k, v]) => `${k}="${escaped(v)}"`).join(',');
const count = (v: number) => String(Math.round(v));
const decimal = (v: number) => String(Math.round(v * 1000) / 1000);

/** Gauges as given; counters as running totals of non-negative increments, so never decreasing. */
function plainLines(def: MetricDef, s: Extract<TextSeries, { values: unknown }>, timestamps: readonly number[]): string {
  const labels = labelText(s.labels);
  let total = 0;
  return timestamps.map((t, i) => {
    const value = def.kind === 'counter' ? (total += Math.max(0, s.values[i] ?? 0)) : (s.values[i] ?? 0);
    return !s.fromFirstEvent || total >= 0.5 ? `${def.name}{${labels}} ${(s.fractional ? decimal : count)(value)} ${t}\n` : '';
  }).join('');
}

/** Per timestamp one MetricPoint: buckets cumulative in `le` and in time, le="+Inf" equal to _count, then _sum and _count. */
function histogramLines(def: MetricDef, s: Extract<TextSeries, { observed: unknown }>, timestamps: readonly number[]): string {
  const [bounds, labels] = [def.buckets ?? latencyBuckets, labelText(s.labels)];
  const totals = { buckets: bounds.map(() => 0), sum: 0, count: 0 };
  return timestamps.map((t, i) => {
    const step = s.observed[i];
    if (step) {
      bounds.forEach((_, b) => { totals.buckets[b] = (totals.buckets[b] ?? 0) + Math.max(0, step.buckets[b] ?? 0); });
      [totals.sum, totals.count] = [totals.sum + Math.max(0, step.sum), totals.count + Math.max(0, step.count)];
    }
    const n = Math.round(totals.count);
    if (n === 0) return '';
    const line = (suffix: string, le: string, value: string) => `${def.name}${suffix}{${labels}${le}} ${value} ${t}\n`;
    // Rounding keeps the order: a bucket never exceeds the next one, nor _count (min() guards the float sums).
    let below = 0;
    const buckets = bounds.map((le, b) => line('_bucket', `,le="${le}"`, count((below = Math.min(n, Math.max(below, Math.round(totals.buckets[b] ?? 0)))))));
    return [...buckets, line('_bucket', ',le="+Inf"', count(n)), line('_sum', '', decimal(totals.sum)), line('_count', '', count(n))].join('');
  }).join('');
}

/**
 * OpenMetrics as promtool reads it: each family once (`# TYPE x counter` over `x_total` samples),
 * the samples of each series in time order with timestamps in seconds, then `# EOF`.
 */
export function openMetricsText(families: readonly TextFamily[], timestamps: readonly number[]): string {
  const out: string[] = [];
  for (const { def, series } of families) {
    const family = def.kind === 'counter' ? def.name.replace(/_total$/, '') : def.name;
    out.push(`# HELP ${family} ${escaped(def.help)}\n# TYPE ${family} ${def.kind}\n`);
    for (const s of series) out.push('observed' in s ? histogramLines(def, s, timestamps) : plainLines(def, s, timestamps));
  }
  return `${out.join('')}# EOF\n`;
}


/** A series as the generators give it: without its labels, which `add` completes. */
export type RoleSeries = Omit<Extract<TextSeries, { values: unknown }>, 'labels'> | Omit<Extract<TextSeries, { observed: unknown }>, 'labels'>;

/**
 * Families collected as Prometheus would have scraped them: each series of a role gets the
 * `job` (the role) and `instance` labels of its scrape target (`instanceOf`, default 127.0.0.1
 * and the role's default port).
 */
export function roleFamilies(instanceOf?: (role: RoleName) => string | undefined): { add: (def: MetricDef, role: RoleName, labels: Labels, series: RoleSeries) => void; families: () => TextFamily[] } {
  const families = new Map<string, { def: MetricDef; series: TextSeries[] }>();
  const add = (def: MetricDef, role: RoleName, labels: Labels, series: RoleSeries) => {
    const family = families.get(def.name) ?? { def, series: [] };
    families.set(def.name, family);
    const instance = instanceOf?.(role) ?? `127.0.0.1:${roleSpecs.find((r) => r.name === role)?.port}`;
    family.series.push({ ...series, labels: { ...labels, job: role, instance } } as TextSeries);
  };
  return { add, families: () => [...families.values()] };
}
