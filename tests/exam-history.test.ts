// The Level 2 exam's staged weekend against real promtool and real Prometheus: every incident's
// history passes promtool and loads; each shows its own signature and no other incident's, over
// a weekend whose load peaks on Saturday near the queue capacities. Each Prometheus starts after
// its blocks are in place, as the native supervisor's restart (or compose's) has it load them.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { requireBinary } from '#platform/binaries.ts';
import { poolDefinitions, poolNames } from '#platform/pools.ts';
import { prometheusArgs, writePrometheusConfig } from '#monitoring/native.ts';
import { waitFor } from '#devenv/nats-server.ts';
import { unusedPort } from '#devenv/ports.ts';
import { BackfillError, backfill, waitForHistory } from '#operator/exam/backfill.ts';
import { abnormalMetrics, incidents, weekendHistory, weekendMoment, type Incident } from '#operator/exam/weekend-history.ts';

const install = 'Run `scripts/bootstrap.sh --with-prometheus`.';
const prometheusBinary = requireBinary('prometheus', install);
const promtool = requireBinary('promtool', install);
const root = mkdtempSync(path.join(os.tmpdir(), 'tps-exam-history-'));
/** The history ends 4 h ago, clear of the head block (the last ~3 h); on a whole minute, so the
 * story's moments fall on the 60 s sample grid and a [1m] rate finds its two samples there. */
const end = new Date(Math.floor((Date.now() - 4 * 3_600_000) / 60_000) * 60_000);

type Prometheus = { url: string; dataDir: string; process: ChildProcess };
const servers: Prometheus[] = [];
type BlockMeta = { minTime: number; maxTime: number; stats: { numSamples: number } };
const texts = new Map<Incident, string>();
/** What promtool wrote, read before any Prometheus could compact it. */
const blocks = new Map<Incident, BlockMeta[]>();
const prometheus = new Map<Incident, Prometheus>();

/** A Prometheus with native mode's command line, no scrape targets, on a free port. */
async function startPrometheus(name: string): Promise<Prometheus> {
  const dir = path.join(root, name);
  const config = writePrometheusConfig(dir, { global: { scrape_interval: '15s' } });
  const port = await unusedPort();
  const dataDir = path.join(dir, 'data');
  const server = { url: `http://127.0.0.1:${port}`, dataDir, process: spawn(prometheusBinary, prometheusArgs(config, dataDir, port), { stdio: 'ignore' }) };
  servers.push(server);
  await waitFor(() => fetch(`${server.url}/-/ready`).then((r) => r.ok || undefined, () => undefined), 30_000, () => `Prometheus ${name} ready`);
  return server;
}

beforeAll(async () => {
  for (const incident of incidents) texts.set(incident, weekendHistory({ incident, end }));
  // Settled, not all(): a failure must not leave the other promtool runs going past the hook.
  const staged = await Promise.allSettled(incidents.map(async (incident) => {
    const dataDir = path.join(root, incident, 'data');
    const written = await backfill(texts.get(incident) ?? '', { dataDir, promtool });
    blocks.set(incident, written.blocks.map((b) => JSON.parse(readFileSync(path.join(dataDir, b, 'meta.json'), 'utf8')) as BlockMeta));
    prometheus.set(incident, await startPrometheus(incident));
  }));
  for (const s of staged) if (s.status === 'rejected') throw s.reason;
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => {
    if (s.process.exitCode !== null || s.process.signalCode !== null) return resolve(undefined);
    s.process.once('exit', resolve);
    s.process.kill('SIGTERM');
  })));
  rmSync(root, { recursive: true, force: true });
}, 30_000);

const answer = z.object({ status: z.literal('success'), data: z.object({ result: z.array(z.object({ value: z.tuple([z.number(), z.string()]) })) }) });

/** The query's single value at `at`, or undefined when it returns nothing. */
async function value(incident: Incident, expr: string, at: Date = end): Promise<number | undefined> {
  const res = await fetch(`${prometheus.get(incident)?.url}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: expr, time: String(at.getTime() / 1000) }) });
  const { result } = answer.parse(await res.json()).data;
  expect(result.length, `${expr} returns one series at most`).toBeLessThanOrEqual(1);
  return result[0] ? Number(result[0].value[1]) : undefined;
}

const saturday = weekendMoment(end, 'saturday', 15);
const slowCapacity = poolDefinitions.slow.queueCapacity;
/** Each incident's signature as a query at `end` over the weekend, and what its value must be when the incident happened. */
const signatures: Record<Incident, { expr: string; shows: (v: number) => boolean }> = {
  'slow-downstream': { expr: 'max(max_over_time(tps_dlq_depth[60h]))', shows: (v) => v > 0 },
  'leaking-worker': { expr: 'max(process_resident_memory_bytes{job="worker-slow"}) / max(process_resident_memory_bytes{job="worker-slow"} offset 58h)', shows: (v) => v > 4 },
  'capped-autoscaler': {
    expr: `min_over_time(max(tps_queue_depth{pool="slow"})[48h:5m]) / ${slowCapacity} * (max_over_time(max(tps_autoscaler_desired_slots{pool="slow"})[48h:5m]) == bool min_over_time(max(tps_autoscaler_desired_slots{pool="slow"})[48h:5m]))`,
    shows: (v) => v >= 0.98,
  },
};

it('promtool takes every incident\'s history whole: blocks covering the weekend, nothing rejected', () => {
  for (const incident of incidents) {
    const metas = blocks.get(incident) ?? [];
    expect(metas.length, incident).toBeGreaterThan(0);
    expect(Math.min(...metas.map((m) => m.minTime)), incident).toBeLessThanOrEqual(end.getTime() - 60 * 3_600_000 + 60_000);
    expect(Math.max(...metas.map((m) => m.maxTime)), incident).toBeGreaterThanOrEqual(end.getTime() - 60_000);
    const samples = (texts.get(incident) ?? '').split('\n').filter((l) => l && !l.startsWith('#')).length;
    expect(metas.reduce((n, m) => n + m.stats.numSamples, 0), `${incident}: every sample stored`).toBe(samples);
  }
});

it('each Prometheus serves its history once started', async () => {
  for (const incident of incidents) await waitForHistory(prometheus.get(incident)?.url ?? '', 'sum(rate(tps_jobs_submitted_total[1m]))', { at: saturday, timeoutMs: 30_000 });
});

it.each(incidents)('%s: the weekend\'s load peaks on Saturday, with the queues near their capacities', async (incident) => {
  const offered = 'sum(rate(tps_jobs_submitted_total[1m])) + sum(rate(tps_jobs_rejected_total[1m]))';
  expect(await value(incident, offered, saturday)).toBeGreaterThan(2 * ((await value(incident, offered, weekendMoment(end, 'monday', 4))) ?? Infinity));
  for (const pool of poolNames) {
    expect(await value(incident, `max(tps_queue_depth{pool="${pool}"}) / max(tps_queue_capacity{pool="${pool}"})`, saturday), `${incident} ${pool}`).toBeGreaterThanOrEqual(0.8);
  }
  // The processing-latency panel's own query has data on the Saturday.
  expect(await value(incident, 'histogram_quantile(0.5, sum by (le) (rate(tps_job_processing_seconds_bucket{pool="slow"}[1m])))', saturday)).toBeGreaterThan(0);
});

it.each(incidents)('%s shows its own signature and no other incident\'s', async (incident) => {
  const seen = Object.fromEntries(await Promise.all(incidents.map(async (s) => [s, signatures[s].shows((await value(incident, signatures[s].expr)) ?? 0)] as const)));
  expect(seen).toEqual(Object.fromEntries(incidents.map((s) => [s, s === incident])));
});

it('slow-downstream: slow jobs slower, retried and dead-lettered on Sunday, the breaker into service-c opening', async () => {
  const incident: Incident = 'slow-downstream';
  const p50 = 'histogram_quantile(0.5, sum by (le) (rate(tps_job_processing_seconds_bucket{pool="slow"}[1m])))';
  expect(await value(incident, p50, weekendMoment(end, 'sunday', 17))).toBeGreaterThan(3 * ((await value(incident, p50, weekendMoment(end, 'sunday', 11))) ?? Infinity));
  expect(await value(incident, 'sum(increase(tps_jobs_processed_total{pool="slow", outcome="retry"}[60h]))')).toBeGreaterThan(0);
  expect(await value(incident, 'sum(increase(tps_dlq_added_total{pool="slow"}[60h]))')).toBeGreaterThan(0);
  expect(await value(incident, 'sum(increase(tps_circuit_transitions_total{circuit="service-b->service-c", to="open"}[60h]))')).toBeGreaterThan(0);
  expect(await value(incident, 'sum(increase(tps_circuit_transitions_total{circuit!="service-b->service-c", to="open"}[60h]))')).toBe(0);
});

it('leaking-worker: the slow worker\'s heap climbs all weekend and stays high; no other role\'s memory does', async () => {
  const heap = (at: Date) => value('leaking-worker', 'max(nodejs_heap_size_used_bytes{job="worker-slow"})', at);
  const [friday, sunday, monday] = await Promise.all([heap(weekendMoment(end, 'friday', 18)), heap(weekendMoment(end, 'sunday', 12)), heap(end)]);
  expect(friday).toBeLessThan(sunday ?? 0);
  expect(sunday).toBeLessThan(monday ?? 0);
  expect(await value('leaking-worker', 'max(max_over_time(process_resident_memory_bytes{job!="worker-slow"}[60h]))')).toBeLessThan(300e6);
});

it('capped-autoscaler: from Saturday the slow pool\'s desired slots stay low while its queue refuses jobs', async () => {
  const incident: Incident = 'capped-autoscaler';
  expect(await value(incident, 'max_over_time(max(tps_autoscaler_desired_slots{pool="slow"})[48h:1m])')).toBeLessThan(poolDefinitions.slow.slots.initial);
  expect(await value(incident, 'max(tps_autoscaler_desired_slots{pool="slow"} offset 59h)')).toBeGreaterThanOrEqual(poolDefinitions.slow.slots.initial);
  expect(await value(incident, 'sum(increase(tps_jobs_rejected_total{pool="slow", reason="queue_full"}[48h]))')).toBeGreaterThan(0);
});

it('the text is OpenMetrics promtool-ready: counters never fall, histogram buckets cumulative with +Inf equal to _count, same seed same text', () => {
  const text = texts.get('slow-downstream') ?? '';
  expect(text.endsWith('# EOF\n')).toBe(true);
  expect(weekendHistory({ incident: 'slow-downstream', end })).toBe(text);
  expect(weekendHistory({ incident: 'slow-downstream', end, seed: 2 })).not.toBe(text);
  // Violations are collected and compared once: an expect() per line of the ~10^5 made this test
  // take 23-30 s on a loaded CI machine, at the edge of its timeout.
  const wrong: string[] = [];
  const last = new Map<string, { t: number; v: number }>();
  const points = new Map<string, number[]>();
  for (const line of text.split('\n')) {
    const m = /^(\w+)\{(.*)\} (\S+) (\d+)$/.exec(line);
    if (!m) continue;
    const [, name = '', labels = '', v = '', t = ''] = m;
    const key = `${name}{${labels}}`;
    const before = last.get(key);
    if (before !== undefined && before.t >= Number(t)) wrong.push(`${key} out of time order at ${t}`);
    if (before !== undefined && /_total$|_bucket$|_count$|_sum$/.test(name) && before.v > Number(v)) wrong.push(`${key} falls at ${t}`);
    last.set(key, { t: Number(t), v: Number(v) });
    if (name.endsWith('_bucket') || name.endsWith('_count')) {
      const point = `${name.replace(/_bucket$|_count$/, '')}{${labels.replace(/,?le="[^"]*"/, '')}} ${t}`;
      points.set(point, [...(points.get(point) ?? []), Number(v)]);
    }
  }
  expect(points.size).toBeGreaterThan(0);
  for (const [point, values] of points) {
    if (values.some((value, i) => i > 0 && value < (values[i - 1] ?? 0))) wrong.push(`${point}: buckets not cumulative`);
    if (values.at(-1) !== values.at(-2)) wrong.push(`${point}: +Inf ${values.at(-2)} is not _count ${values.at(-1)}`);
  }
  expect(wrong.slice(0, 10)).toEqual([]);
}, 120_000);

it('every metric named abnormal is in the history', () => {
  for (const incident of incidents) {
    for (const name of abnormalMetrics[incident]) expect(texts.get(incident), `${incident}: ${name}`).toMatch(new RegExp(`\\n${name}(_bucket)?\\{`));
  }
});

it('backfill says what is wrong: promtool missing, promtool refusing the text, a query that never returns data', async () => {
  const dataDir = path.join(root, 'errors');
  await expect(backfill('# EOF\n', { dataDir, promtool: path.join(root, 'no-promtool') })).rejects.toThrow(/scripts\/bootstrap\.sh --with-prometheus/);
  await expect(backfill('no_type_line 1 x\n# EOF\n', { dataDir, promtool })).rejects.toThrow(BackfillError);
  const recent = `# TYPE up gauge\nup{job="x"} 1 ${Math.floor(Date.now() / 1000) - 3_600}\n# EOF\n`;
  await expect(backfill(recent, { dataDir, promtool })).rejects.toThrow(/less than 3 h ago/);
  await expect(waitForHistory(prometheus.get('leaking-worker')?.url ?? '', 'up', { at: new Date(Date.now() + 3_600_000), timeoutMs: 1_000 })).rejects.toThrow(/did not show up at .* within 1000 ms/);
});
