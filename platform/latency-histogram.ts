// A latency histogram whose observation costs a key lookup and a few additions. prom-client's
// Histogram validates, copies and hashes the label set on every observe, and with exemplars
// hashes it twice: about 4 µs here, a twentieth of a whole refused HTTP request, on every request
// of every role. This one keys each series by its label values once and is rendered by
// prom-client's registry in exactly the exposition prom-client's Histogram gives (with OpenMetrics
// exemplars); tests/metrics.test.ts holds the two side by side.
import type client from 'prom-client';

type Exemplar = { labelSet: { trace_id: string }; value: number; timestamp: number };
type Series = {
  /** The series' labels, one object for its lifetime (the registry caches its rendering by identity). */
  readonly labels: Record<string, string>;
  /** Observations per bucket, not cumulative; the last slot is above the largest bound (+Inf). */
  readonly counts: number[];
  /** The latest trace of each bucket, as prom-client keeps them. */
  readonly exemplars: Array<Exemplar | null>;
  sum: number;
  count: number;
};
type ExportedValue = { labels: Record<string, string | number>; sharedLabels?: Record<string, string>; value: number; metricName: string; exemplar: Exemplar | null | undefined };
type Exported = { name: string; help: string; type: 'histogram'; values: ExportedValue[]; aggregator: 'sum' };

export class LatencyHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  private readonly labelNames: readonly L[];
  private readonly bounds: readonly number[];
  private readonly series = new Map<string, Series>();

  constructor(name: string, help: string, labelNames: readonly L[], bounds: readonly number[]) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
    this.bounds = bounds;
    if (bounds.some((b, i) => i > 0 && b <= (bounds[i - 1] as number))) throw new Error(`${name}: bucket bounds must increase: ${bounds.join(', ')}`);
    // As prom-client does: a histogram without labels shows its zeros before the first observation.
    if (labelNames.length === 0) this.create('', {});
  }

  /** Records seconds under the label set; with a trace id, as that bucket's exemplar. */
  observe(labels: Partial<Record<L, string>>, seconds: number, traceId?: string): void {
    const key = this.keyOf(labels);
    this.record(this.series.get(key) ?? this.create(key, labels), seconds, traceId);
  }

  /** `observe` for one label set, with its key made once: for a path that observes at full speed. */
  bind(labels: Partial<Record<L, string>>): (seconds: number, traceId?: string) => void {
    const key = this.keyOf(labels);
    const own = { ...labels };
    // Looked up on each call (a string whose hash is cached), so a reset cannot detach it.
    return (seconds, traceId) => this.record(this.series.get(key) ?? this.create(key, own), seconds, traceId);
  }

  private record(s: Series, seconds: number, traceId: string | undefined): void {
    if (!Number.isFinite(seconds)) throw new TypeError(`${this.name}: not a valid number of seconds: ${String(seconds)}`);
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && seconds > (bounds[i] as number)) i++;
    s.counts[i] = (s.counts[i] as number) + 1;
    s.sum += seconds;
    s.count += 1;
    if (traceId !== undefined) s.exemplars[i] = { labelSet: { trace_id: traceId }, value: seconds, timestamp: Date.now() / 1000 };
  }

  private keyOf(labels: Partial<Record<L, string>>): string {
    // A label left out and a label given as '' are different series, as in prom-client.
    let key = '';
    for (const name of this.labelNames) {
      const value = labels[name];
      key += value === undefined ? '\u0001' : `${value}\u0000`;
    }
    return key;
  }

  private create(key: string, labels: Partial<Record<L, string>>): Series {
    const own: Record<string, string> = {};
    for (const name of this.labelNames) {
      const value = labels[name];
      if (value !== undefined) own[name] = value;
    }
    const slots = this.bounds.length + 1;
    const s: Series = { labels: own, counts: new Array<number>(slots).fill(0), exemplars: new Array<Exemplar | null>(slots).fill(null), sum: 0, count: 0 };
    this.series.set(key, s);
    return s;
  }

  /** The registry's form for the text exposition: the series' labels shared by its lines. */
  getForPromString(): Promise<Exported> {
    const values: ExportedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += s.counts[i] as number;
        values.push({ labels: { le }, sharedLabels: s.labels, value: cumulative, metricName: bucket, exemplar: s.exemplars[i] });
      });
      const overflow = this.bounds.length;
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucket, exemplar: s.exemplars[overflow] },
        { labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum`, exemplar: undefined },
        { labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count`, exemplar: undefined },
      );
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  /** The JSON form (`registry.getMetricsAsJSON()`): every line's labels in one object, `le` first. */
  async get(): Promise<Exported> {
    const data = await this.getForPromString();
    data.values = data.values.map(({ labels, sharedLabels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } }));
    return data;
  }

  /** `registry.resetMetrics()`. */
  reset(): void {
    this.series.clear();
    if (this.labelNames.length === 0) this.create('', {});
  }

  /** Registers this histogram with a prom-client registry, which renders it with the rest. */
  registerIn(registry: client.Registry<client.OpenMetricsContentType>): this {
    // The registry needs only name, type, get/getForPromString and reset of a metric.
    registry.registerMetric(this as unknown as client.Metric);
    return this;
  }
}
