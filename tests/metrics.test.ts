// The platform's own metric types against prom-client's: the latency histogram must render
// exactly what prom-client's Histogram renders for the same observations (Prometheus text,
// OpenMetrics with exemplars, JSON), and a bound counter's deferred increments must show in
// every read and never twice.
import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '#platform/latency-histogram.ts';
import { counter, createRegistry, latencyBuckets, metrics } from '#platform/metrics.ts';

type Labels = { service?: string; route?: string; code?: string };
// On every bound, between bounds, beyond the last, zero and negative; a label left out; an empty
// label; values that need escaping; with and without a trace id (the exemplar of its bucket).
const observations: Array<[Labels, number, string?]> = [
  [{ service: 'ingress', route: '/jobs', code: '202' }, 0.0004],
  [{ service: 'ingress', route: '/jobs', code: '202' }, 0.001, '4bf92f3577b34da6a3ce929d0e0e4736'],
  [{ service: 'ingress', route: '/jobs', code: '503' }, 0.0037],
  [{ service: 'ingress', route: '/jobs', code: '202' }, 31, '00f067aa0ba902b700f067aa0ba902b7'],
  [{ service: 'ingress', route: '/jobs', code: '202' }, 0],
  [{ service: 'ingress', route: '/jobs' }, 0.2],
  [{ service: 'ingress', route: '', code: '404' }, 0.05],
  [{ service: 'say "hi"\\\n', route: '/x', code: '200' }, -1],
  ...latencyBuckets.map((b, i): [Labels, number, string?] => [{ service: 'worker', route: '/b', code: '200' }, b, i % 3 ? undefined : `${String(i).padStart(32, 'a')}`]),
  ...latencyBuckets.map((b): [Labels, number] => [{ service: 'worker', route: '/b', code: '200' }, b * 1.5]),
];

// prom-client keeps exemplars only in an OpenMetrics registry (every role's); in a Prometheus-text
// one, both are observed without trace ids.
function bothRegistries(contentType: typeof client.Registry.PROMETHEUS_CONTENT_TYPE | typeof client.Registry.OPENMETRICS_CONTENT_TYPE) {
  const d = metrics.httpDuration;
  const exemplars = contentType === client.Registry.OPENMETRICS_CONTENT_TYPE;
  const theirs = new client.Registry();
  theirs.setContentType(contentType as never);
  const reference = new client.Histogram({ name: d.name, help: d.help, labelNames: d.labels, buckets: [...latencyBuckets], registers: [theirs], enableExemplars: exemplars });
  const ours = new client.Registry();
  ours.setContentType(contentType as never);
  const h = new LatencyHistogram(d.name, d.help, d.labels, latencyBuckets).registerIn(ours as never);
  for (const [labels, seconds, given] of observations) {
    const trace = exemplars ? given : undefined;
    if (exemplars) reference.observe({ labels, value: seconds, ...(trace ? { exemplarLabels: { trace_id: trace } } : {}) } as never);
    else reference.observe(labels, seconds);
    h.observe(labels, seconds, trace);
  }
  return { theirs, ours, h };
}
// Exemplar timestamps are the wall clock at observation; both must have one, of the same form.
const stamps = (text: string) => text.replace(/(# \{[^}]*\} \S+) \d+(\.\d+)?/g, '$1 <ts>');
const stampsJson = (x: unknown) => JSON.parse(JSON.stringify(x, (k, v: unknown) => (k === 'timestamp' ? '<ts>' : v))) as unknown;

describe('LatencyHistogram', () => {
  it('renders the OpenMetrics exposition of prom-client\'s Histogram, exemplars included', async () => {
    const { theirs, ours } = bothRegistries(client.Registry.OPENMETRICS_CONTENT_TYPE);
    const text = await ours.metrics();
    expect(text).toContain('# {trace_id="4bf92f3577b34da6a3ce929d0e0e4736"} 0.001 ');
    expect(text).toContain('tps_http_request_duration_seconds_bucket{le="+Inf",service="ingress",route="/jobs",code="202"} 4 # {trace_id="00f067aa0ba902b700f067aa0ba902b7"} 31 ');
    expect(stamps(text)).toBe(stamps(await theirs.metrics()));
  });

  it('renders the Prometheus text and JSON forms of prom-client\'s Histogram', async () => {
    const { theirs, ours } = bothRegistries(client.Registry.PROMETHEUS_CONTENT_TYPE);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(stampsJson(await ours.getMetricsAsJSON())).toEqual(stampsJson(await theirs.getMetricsAsJSON()));
  });

  it('is emptied by resetMetrics, and a label-less one shows its zeros from the start', async () => {
    const { theirs, ours } = bothRegistries(client.Registry.PROMETHEUS_CONTENT_TYPE);
    theirs.resetMetrics();
    ours.resetMetrics();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    const bare = new client.Registry();
    new LatencyHistogram('bare_seconds', 'no labels', [], [0.1, 1]).registerIn(bare as never);
    const reference = new client.Registry();
    new client.Histogram({ name: 'bare_seconds', help: 'no labels', buckets: [0.1, 1], registers: [reference] });
    expect(await bare.metrics()).toBe(await reference.metrics());
  });

  it('records through a bound label set as through observe, also after a reset', async () => {
    const bound = new client.Registry();
    const h = new LatencyHistogram('b_seconds', 'b', ['a', 'b'], [0.1, 1]).registerIn(bound as never);
    const plain = new client.Registry();
    const reference = new LatencyHistogram('b_seconds', 'b', ['a', 'b'], [0.1, 1]).registerIn(plain as never);
    const observe = h.bind({ a: 'x' });
    const values = [0.05, 0.1, 0.5, 7];
    for (const v of values) { observe(v); reference.observe({ a: 'x' }, v); }
    expect(await bound.metrics()).toBe(await plain.metrics());
    expect(await bound.metrics()).toContain('b_seconds_count{a="x"} 4');
    bound.resetMetrics();
    observe(0.2);
    expect((await bound.metrics()).split('\n').filter((l) => l.startsWith('b_seconds_count'))).toEqual(['b_seconds_count{a="x"} 1']);
  });

  it('refuses a value that is not a number of seconds, and bounds out of order', () => {
    const h = new LatencyHistogram('x_seconds', 'x', ['a'], [0.1, 1]);
    expect(() => h.observe({ a: '1' }, Number.NaN)).toThrow(/x_seconds: not a valid number of seconds: NaN/);
    expect(() => h.observe({ a: '1' }, Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(() => new LatencyHistogram('y_seconds', 'y', [], [1, 0.1])).toThrow(/y_seconds: bucket bounds must increase: 1, 0.1/);
  });
});

describe('counter().bind', () => {
  it('shows its deferred increments in every read, added to plain ones, never twice', async () => {
    const registry = createRegistry({ defaults: false });
    const rejected = counter(registry, metrics.jobsRejected);
    const full = rejected.bind({ pool: 'fast', reason: 'queue_full' });
    const line = async () => (await registry.metrics()).split('\n').find((l) => l.startsWith('tps_jobs_rejected_total{pool="fast",reason="queue_full"}'));
    expect(await line()).toBeUndefined();
    for (let i = 0; i < 5; i++) full();
    rejected.inc({ pool: 'fast', reason: 'queue_full' });
    expect(await line()).toBe('tps_jobs_rejected_total{pool="fast",reason="queue_full"} 6');
    expect(await line()).toBe('tps_jobs_rejected_total{pool="fast",reason="queue_full"} 6');
    full();
    expect((await rejected.get()).values).toEqual([{ labels: { pool: 'fast', reason: 'queue_full' }, value: 7 }]);
    expect(await line()).toBe('tps_jobs_rejected_total{pool="fast",reason="queue_full"} 7');
  });
});
