// Metrics that tell the truth, read from every real role of a running stack: each /metrics passes
// `promtool check metrics` with no finding (Prometheus text for curl and promtool, OpenMetrics
// with exemplars for a scraper that asks for it, the same samples in both); every counter series
// a role knows up front is there at 0 from its start; and `tps status` counts every refusal of
// the ingress, those decided before the pool was known included, exactly as the metric does.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { requireBinary } from '#platform/binaries.ts';
import { parseMetrics, type Sample } from '#operator/status/parse.ts';
import type { Snapshot } from '#operator/status/snapshot.ts';
import { tps } from '#devenv/cli.ts';
import { startNatsServer, type NatsServerHandle } from '#devenv/nats-server.ts';
import { postJob } from '#devenv/roles.ts';
import { metricValue, startStack, type Stack } from '#devenv/stack.ts';

const roles = ['ingress', 'worker-fast', 'worker-slow', 'service-a', 'service-b', 'service-c', 'autoscaler'] as const;
const promtool = requireBinary('promtool', 'Run `scripts/bootstrap.sh --with-prometheus`.');
// What Prometheus sends when it scrapes (2.42 and 3.x list OpenMetrics first).
const prometheusAccept = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

let server: NatsServerHandle;
let stack: Stack;
beforeAll(async () => {
  server = await startNatsServer();
  // A low rate limit: the refusals of the last test are the ingress's own, decided before parsing.
  stack = await startStack(server.url, { RATE_LIMIT_RPS: '5' });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await server?.dispose();
});

async function scrape(role: (typeof roles)[number], accept?: string): Promise<{ type: string; text: string }> {
  const res = await fetch(`${stack.url(role)}/metrics`, accept ? { headers: { accept } } : {});
  return { type: res.headers.get('content-type') ?? '', text: await res.text() };
}

function lint(text: string): string[] {
  const r = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.split('\n').filter(Boolean);
}

// prom-client leaves out the event loop's mean and stddev while its lag histogram has no sample
// (they are NaN), so whether they appear can change between two reads; every other series must not.
const comesAndGoes = /^nodejs_eventloop_lag_(mean|stddev)_seconds$/;
const series = (samples: Sample[]) => samples.filter((s) => !comesAndGoes.test(s.name)).map((s) => `${s.name}${JSON.stringify(s.labels)}`).sort();
const valueOf = (samples: Sample[], name: string, labels: Record<string, string>) =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

it('every role\'s /metrics passes promtool check metrics, and says the same in OpenMetrics', async () => {
  const findings: Record<string, string[]> = {};
  for (const role of roles) {
    // The first read of /metrics adds its own series to the request histogram: read once before.
    await scrape(role);
    const open = await scrape(role, prometheusAccept);
    expect(open.type).toMatch(/^application\/openmetrics-text; version=1\.0\.0/);
    expect(open.text.endsWith('# EOF\n')).toBe(true);
    const text = await scrape(role);
    expect(text.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    findings[role] = lint(text.text);
    // Gauges (CPU, memory, event loop) move between two scrapes; which series exist must not.
    expect(series(parseMetrics(open.text))).toEqual(series(parseMetrics(text.text)));
  }
  expect(findings).toEqual(Object.fromEntries(roles.map((r) => [r, []])));
});

it('exports every counter series a role knows at 0 from its start', async () => {
  const ingress = parseMetrics((await scrape('ingress')).text);
  for (const pool of ['fast', 'slow', 'unknown']) {
    for (const reason of ['queue_full', 'rate_limited', 'invalid', 'broker_unavailable', 'idempotency_store_full']) {
      expect(valueOf(ingress, 'tps_jobs_rejected_total', { pool, reason }), `${pool} ${reason}`).toBe(0);
    }
  }
  expect(valueOf(ingress, 'tps_jobs_submitted_total', { pool: 'slow', type: 'slow.export' })).toBe(0);
  const worker = parseMetrics((await scrape('worker-fast')).text);
  for (const outcome of ['success', 'retry', 'dead_lettered']) expect(valueOf(worker, 'tps_jobs_processed_total', { pool: 'fast', type: 'fast.lookup', outcome })).toBe(0);
  for (const to of ['closed', 'half_open', 'open']) expect(valueOf(worker, 'tps_circuit_transitions_total', { circuit: 'worker-fast->service-a', to })).toBe(0);
  expect(valueOf(worker, 'tps_circuit_calls_total', { circuit: 'worker-fast->service-a', result: 'rejected' })).toBe(0);
  const serviceB = parseMetrics((await scrape('service-b')).text);
  for (const reason of ['overloaded', 'deadline']) expect(valueOf(serviceB, 'tps_service_rejected_total', { service: 'service-b', reason })).toBe(0);
  expect(valueOf(serviceB, 'tps_service_duplicates_total', { service: 'service-b' })).toBe(0);
  expect(valueOf(serviceB, 'tps_circuit_transitions_total', { circuit: 'service-b->service-c', to: 'open' })).toBe(0);
  const autoscaler = parseMetrics((await scrape('autoscaler')).text);
  expect(valueOf(autoscaler, 'tps_autoscaler_decisions_total', { pool: 'slow', direction: 'up' })).toBeDefined();
});

it('tps status counts every refusal as the metric does, those decided before the pool was known included', async () => {
  const ingress = stack.url('ingress');
  const targets = `ingress=${ingress}`;
  let refused = 0;
  /** Bursts over the rate limit for as long as `until` runs: the board reads an ongoing overload. */
  async function overload<T>(until: Promise<T>): Promise<T> {
    let done = false;
    void until.finally(() => { done = true; });
    while (!done) {
      const answers = await Promise.all(Array.from({ length: 20 }, () => postJob(ingress, { type: 'fast.echo' })));
      refused += answers.filter((a) => a.status === 429).length;
    }
    return until;
  }
  const json = await overload(tps(['status', '--json', '--interval', '1.5', '--targets', targets]));
  expect(json.code).toBe(0);
  const s = JSON.parse(json.stdout) as Snapshot;
  expect(s.rejected.perSec).toBeGreaterThan(10);
  expect(s.rejected.byReason.rate_limited).toBeCloseTo(s.rejected.perSec);
  // The rate limit is decided before the body is read: no pool to put it on.
  expect(s.rejected.byPool.unknown).toBeCloseTo(s.rejected.perSec);
  const byPool = Object.values(s.rejected.byPool).reduce((a, b) => a + b, 0);
  expect(byPool).toBeCloseTo(s.rejected.perSec);

  const text = await overload(tps(['status', '--no-color', '--interval', '1.5', '--targets', targets]));
  const line = text.stdout.split('\n').find((l) => l.startsWith('Rejected')) ?? '';
  expect(line).toMatch(/^Rejected\s+! \d+\.\d\/s: rate_limited \d+\.\d\/s \(before the pool was known \d+\.\d\/s\)$/);
  expect(text.stdout).not.toMatch(/Rejected\s+✓ none/);
  // The metric counted each 429 the clients got, once.
  expect(await metricValue(ingress, /^tps_jobs_rejected_total\{/)).toBe(refused);
  expect(lint((await scrape('ingress')).text)).toEqual([]);
  console.log(`refusals: ${refused} answered 429; tps status read ${s.rejected.perSec.toFixed(1)}/s, all before the pool was known; "${line}"`);
}, 60_000);
