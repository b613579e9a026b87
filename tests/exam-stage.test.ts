// `tps exam 2` stages its weekend in native mode's Prometheus (real Prometheus, real promtool): the
// incident's history in the data folder `make up` gives Prometheus, then the recording rules over
// it, so the panels built on recorded series (memory per role) show the weekend too. Without a
// Prometheus the exam says the history is not staged.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { nativePrometheusDir } from '#monitoring/native.ts';
import { unusedPort } from '#devenv/ports.ts';
import { startPrometheus, type TestPrometheus } from '#devenv/prometheus.ts';
import { backfill, BackfillError, waitForHistory } from '#operator/exam/backfill.ts';
import { evaluateRules } from '#operator/exam/recorded-history.ts';
import { weekendHistory } from '#operator/exam/weekend-history.ts';
import { stageWeekend } from '#operator/exam/stage.ts';

const stateDir = mkdtempSync(path.join(os.tmpdir(), 'tps-exam-stage-'));
let server: TestPrometheus;

beforeAll(async () => {
  server = await startPrometheus(nativePrometheusDir(stateDir));
}, 40_000);

afterAll(async () => {
  await server?.stop();
  rmSync(stateDir, { recursive: true, force: true });
}, 30_000);

it('backfills the leaking worker\'s weekend and its recording rules: the memory panel\'s series climbs through the weekend', async () => {
  const lines: string[] = [];
  // What the supervisor does natively: a restart loads the moved blocks at once, where the running
  // Prometheus would wait for its next block reload (up to a minute each time; exam-history.test.ts
  // shows that reload). Restarted in turn, never while staging queries it.
  const restartPrometheus = async () => { await server.restart(); return true; };
  const note = await stageWeekend('leaking-worker', { stateDir, prometheusUrl: server.url, progress: (l) => lines.push(l), restartPrometheus });
  expect(lines[0]).toMatch(/^history: writing the weekend \(.+Z to .+Z\) into Prometheus$/);
  expect(lines.slice(1)).toEqual(['history: Prometheus restarted to load it at once', expect.stringMatching(/^history: evaluating \d+ recording rules over it/), 'history: Prometheus restarted to load it at once']);
  expect(note).toMatch(/^history: the weekend backfilled into Prometheus \(\d+ blocks of samples, [1-9]\d* of recording rules; the rules' blocks shown now\)$/);
  // The recorded series the "Memory per role" panel reads, from the rules' blocks.
  const query = 'job:process_resident_memory:ratio{job="worker-slow"}';
  const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);
  // Missing now and then in CI when promtool evaluated the rules (it skipped a rule group when the
  // history started in the last minutes of one of its 2-hour blocks). The wait is only a margin.
  await waitForHistory(server.url, query, { at: hoursAgo(10), timeoutMs: 90_000 });
  const at = async (h: number) => {
    const body = new URLSearchParams({ query, time: String(hoursAgo(h).getTime() / 1000) });
    const res = await (await fetch(`${server.url}/api/v1/query`, { method: 'POST', body })).json() as { data: { result: Array<{ value: [number, string] }> } };
    return Number(res.data.result[0]?.value[1]);
  };
  // Friday evening against Monday morning: the leak shows in the recorded ratio.
  expect(await at(10)).toBeGreaterThan(3 * (await at(60)));
}, 240_000);

it('records each rule at every step of the history, with its labels, one family per recorded name, as promtool reads it', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-exam-stage-rules-'));
  const prom = await startPrometheus(dir);
  try {
    const end = new Date(Math.floor((Date.now() - 4 * 3_600_000) / 300_000) * 300_000);
    const start = new Date(end.getTime() - 6 * 3_600_000);
    await backfill(weekendHistory({ incident: 'capped-autoscaler', end, hours: 6 }), { dataDir: prom.dataDir });
    await prom.restart();
    await waitForHistory(prom.url, 'last_over_time(up[1h])', { at: new Date(end.getTime() - 3_600_000), timeoutMs: 60_000 });
    // Two rules recording one name (told apart by their labels), a label value that needs escaping,
    // and a rule that finds nothing.
    const rules = [
      { record: 'tps_test:up:count', expr: 'count(up)', labels: { source: 'a "quoted" \\ one' } },
      { record: 'tps_test:up:count', expr: 'count(up) * 2', labels: { source: 'doubled' } },
      { record: 'tps_test:jobs:count', expr: 'count by (job) (up)' },
      { record: 'tps_test:nothing:sum', expr: 'sum(tps_no_such_series)' },
    ];
    const recorded = await evaluateRules({ prometheusUrl: prom.url, start, end, stepSeconds: 300, rules });
    const steps = 6 * 12 + 1;
    const jobs = new Set(weekendHistory({ incident: 'capped-autoscaler', end, hours: 1 }).match(/^up\{job="[^"]+"/gm)).size;
    expect(recorded.series).toBe(2 + jobs);
    expect(recorded.samples).toBe((2 + jobs) * steps);
    expect(recorded.text.match(/^# TYPE .+$/gm)).toEqual(['# TYPE tps_test:up:count gauge', '# TYPE tps_test:jobs:count gauge']);
    expect(recorded.text.endsWith('# EOF\n')).toBe(true);
    // promtool takes it as it takes the history; Prometheus serves each series at each step.
    const { blocks } = await backfill(recorded.text, { dataDir: prom.dataDir });
    expect(blocks.length).toBeGreaterThan(0);
    await prom.restart();
    const at = new Date(end.getTime() - 3_600_000);
    await waitForHistory(prom.url, 'tps_test:up:count', { at, timeoutMs: 60_000 });
    const query = async (q: string) => {
      const body = new URLSearchParams({ query: q, time: String(at.getTime() / 1000) });
      return ((await (await fetch(`${prom.url}/api/v1/query`, { method: 'POST', body })).json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result;
    };
    const counts = await query('tps_test:up:count');
    expect(Object.fromEntries(counts.map((r) => [r.metric.source, Number(r.value[1])]))).toEqual({ 'a "quoted" \\ one': jobs, doubled: 2 * jobs });
    expect((await query('count_over_time(tps_test:jobs:count[6h])')).map((r) => Number(r.value[1]))).toEqual(Array(jobs).fill(5 * 12 + 1));
    // A rule Prometheus refuses is named in the error.
    await expect(evaluateRules({ prometheusUrl: prom.url, start, end, stepSeconds: 300, rules: [{ record: 'tps_test:bad', expr: 'sum(' }] }))
      .rejects.toThrow(new BackfillError('evaluating the recording rule tps_test:bad: bad_data: 1:5: parse error: unclosed left parenthesis'));
  } finally {
    await prom.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

it('says the history is not staged when no Prometheus answers, and for an unknown incident', async () => {
  const port = await unusedPort();
  expect(await stageWeekend('leaking-worker', { stateDir, prometheusUrl: `http://127.0.0.1:${port}` })).toMatch(/^history: not staged: no Prometheus at http:\/\/127\.0\.0\.1:\d+ \(install it with scripts\/bootstrap\.sh --with-prometheus, then make up\)/);
  expect(await stageWeekend('meteor', { stateDir, prometheusUrl: server.url })).toBe('history: not staged (no weekend for incident "meteor")');
  // A Prometheus that answers but keeps its data elsewhere (compose: its own volume), and no hand-off folder.
  const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'tps-exam-stage-elsewhere-'));
  expect(await stageWeekend('leaking-worker', { stateDir: elsewhere, prometheusUrl: server.url })).toMatch(/^history: not staged: Prometheus' data folder is not here \(.+\) and no TPS_HISTORY_DIR is set/);
  rmSync(elsewhere, { recursive: true, force: true });
});

it('leaves the weekend in the hand-off folder when Prometheus keeps its data elsewhere (compose), for prometheus/load-history.sh', async () => {
  const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'tps-exam-stage-handoff-'));
  const handoffDir = path.join(elsewhere, 'history');
  const note = await stageWeekend('capped-autoscaler', { stateDir: elsewhere, prometheusUrl: server.url, handoffDir, instanceOf: (role) => `${role}:1234` });
  expect(note).toMatch(/^history: the weekend \(.+Z to .+Z\) is written; bin\/tps loads it into Prometheus when this command ends/);
  const readRequest = () => Object.fromEntries(readFileSync(path.join(handoffDir, 'request.env'), 'utf8').trim().split('\n').map((l) => l.split('=') as [string, string]));
  const request = readRequest();
  expect(Object.keys(request)).toEqual(['START', 'END', 'AT', 'BLOCK_HOURS', 'RULES', 'HANDOFF']);
  expect([request.BLOCK_HOURS, request.RULES]).toEqual(['24', '1']);
  const [start, end, at] = [request.START, request.END, request.AT].map(Number) as [number, number, number];
  expect(end - start).toBe(60 * 3_600);
  expect(at).toBe(end - 3_600);
  expect(Date.now() / 1000 - end).toBeGreaterThan(3 * 3_600); // older than Prometheus' head block
  const history = readFileSync(path.join(handoffDir, 'history.om'), 'utf8');
  expect(history.endsWith('# EOF\n')).toBe(true);
  expect(history).toMatch(/\nup\{job="autoscaler",instance="autoscaler:1234"\} 1 \d+/);
  // Each hand-off has an id of its own, even over the same window: bin/tps loads only the one its
  // command wrote, not one an earlier command left (scripts/stack.sh).
  await stageWeekend('capped-autoscaler', { stateDir: elsewhere, prometheusUrl: server.url, handoffDir, instanceOf: (role) => `${role}:1234` });
  expect(readRequest().HANDOFF).toMatch(/^[0-9a-f-]{36}$/);
  expect(readRequest().HANDOFF).not.toBe(request.HANDOFF);
  rmSync(elsewhere, { recursive: true, force: true });
});
