// prometheus/load-history.sh, compose's loader of a staged history, run as bin/tps runs it (its
// phases, Prometheus restarted between them) against a real Prometheus and real promtool, its
// mounts and address pointed at the test's own. A short history keeps promtool's rule pass brief;
// the compose test (tests/docker) runs the exam's whole weekend through the service itself.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { startPrometheus, type TestPrometheus } from '#devenv/prometheus.ts';
import { rulesBlockMs, waitForHistory } from '#operator/exam/backfill.ts';
import { historyWindow, stageHistory } from '#operator/exam/stage.ts';
import { weekendHistory } from '#operator/exam/weekend-history.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'tps-load-history-'));
const hours = 6;
let prometheus: TestPrometheus | undefined;

afterEach(async () => { await prometheus?.stop(); });
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A Prometheus whose data lives elsewhere (as compose's volume does), and the hand-off tps leaves for the script. */
async function staged(name: string, now = Date.now()): Promise<{ prom: TestPrometheus; history: string; end: Date }> {
  prometheus = await startPrometheus(path.join(root, name, 'server'));
  const history = path.join(root, name, 'history');
  const { start, end } = historyWindow(hours, now);
  const openMetrics = () => weekendHistory({ incident: 'capped-autoscaler', end, hours });
  const note = await stageHistory({ what: 'a short weekend', start, end, openMetrics, blockHours: 24, rules: true }, { stateDir: path.join(root, name), prometheusUrl: prometheus.url, handoffDir: history });
  expect(note).toMatch(/is written; bin\/tps loads it/);
  return { prom: prometheus, history, end };
}

/** One phase of the script, as the prometheus-history service runs it. */
function phase(name: string, prom: TestPrometheus, history: string): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn('sh', ['prometheus/load-history.sh'], { env: { ...process.env, PHASE: name, HISTORY_DIR: history, PROMETHEUS_DATA: prom.dataDir, PROMETHEUS_URL: prom.url } });
  let [out, err] = ['', ''];
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

it('loads the samples, then the rules\' blocks (counted, moved in whole), and after the restart waits until their series show', async () => {
  const { prom, history, end } = await staged('whole');
  expect(await phase('blocks', prom, history)).toMatchObject({ code: 0, out: expect.stringContaining('history: written; Prometheus loads it when it restarts') });
  await prom.restart();
  const rules = await phase('rules', prom, history);
  expect(rules.code, rules.err).toBe(0);
  expect(rules.out).toMatch(/history: it is in Prometheus, its recording rules too \([1-9]\d* blocks\)\n$/);
  // Nothing is left aside: every block promtool wrote is in the data folder.
  expect(readdirSync(prom.dataDir).filter((f) => f.startsWith('rules-staging'))).toEqual([]);
  await prom.restart();
  expect(await phase('ready', prom, history)).toEqual({ code: 0, out: 'history: the recording rules\' series show in the history\n', err: '' });
  // The queue fill panel's series. Once in CI it was missing while another recorded series showed:
  // promtool had skipped its rule group (the next test). The wait is a margin, and the blocks
  // Prometheus has are shown should it ever not be enough.
  const at = new Date(end.getTime() - 3_600_000);
  await waitForHistory(prom.url, 'pool:tps_queue_fill:ratio{pool="slow"}', { at, timeoutMs: 90_000 }).catch(async (err: Error) => {
    const body = new URLSearchParams({ query: 'count by (__name__) ({__name__=~".+:.+"})', time: String(at.getTime() / 1000) });
    const names = await (await fetch(`${prom.url}/api/v1/query`, { method: 'POST', body })).text();
    const blocks = readdirSync(prom.dataDir).filter((b) => existsSync(path.join(prom.dataDir, b, 'meta.json')))
      .map((b) => { const m = JSON.parse(readFileSync(path.join(prom.dataDir, b, 'meta.json'), 'utf8')) as { minTime: number; maxTime: number; stats: { numSeries: number }; compaction: { level: number } }; return `${b} ${new Date(m.minTime).toISOString()}..${new Date(m.maxTime).toISOString()} level ${m.compaction.level}, ${m.stats.numSeries} series`; });
    throw new Error(`${err.message}\nrecorded series at ${at.toISOString()}: ${names}\nblocks:\n${blocks.join('\n')}`);
  });
}, 180_000);

it('evaluates every rule group over a history that starts a second before one of promtool\'s 2-hour blocks ends', async () => {
  // From such a --start, promtool skipped every group whose first evaluation (a 5-minute grid,
  // shifted by a hash of the group) fell past that block's end: nearly every group, and exited 0
  // (operator/exam/backfill.ts, rulesStartSeconds).
  const natural = historyWindow(hours).start.getTime();
  const start = Math.floor(natural / rulesBlockMs) * rulesBlockMs - 1_000;
  const { prom, history, end } = await staged('unaligned', Date.now() - (natural - start));
  expect(Number(readFileSync(path.join(history, 'request.env'), 'utf8').match(/^START=(\d+)$/m)?.[1]) % 7_200).toBe(7_199);
  // Three groups, each with one rule that has a value wherever the history has samples.
  const groups = ['a', 'b', 'c'];
  writeFileSync(path.join(history, 'rules.yml'), `groups:\n${groups.map((g) => `  - name: ${g}\n    interval: 5m\n    rules:\n      - record: tps_test:${g}:count\n        expr: count(up)\n`).join('')}`);
  expect((await phase('blocks', prom, history)).code).toBe(0);
  await prom.restart();
  const rules = await phase('rules', prom, history);
  expect(rules.code, rules.err).toBe(0);
  await prom.restart();
  expect((await phase('ready', prom, history)).code).toBe(0);
  const body = new URLSearchParams({ query: 'count by (__name__) ({__name__=~"tps_test:.+"})', time: String((end.getTime() - 3_600_000) / 1000) });
  const answer = await (await fetch(`${prom.url}/api/v1/query`, { method: 'POST', body })).json() as { data: { result: Array<{ metric: { __name__: string } }> } };
  expect(answer.data.result.map((r) => r.metric.__name__).sort()).toEqual(groups.map((g) => `tps_test:${g}:count`));
}, 180_000);

it('fails, with promtool\'s log, when the rules evaluate to nothing over the history, and leaves no folder behind', async () => {
  const { prom, history } = await staged('empty');
  expect((await phase('blocks', prom, history)).code).toBe(0);
  await prom.restart();
  writeFileSync(path.join(history, 'rules.yml'), 'groups:\n  - name: nothing\n    rules:\n      - record: job:nothing_here:sum\n        expr: sum(tps_no_such_series)\n');
  const rules = await phase('rules', prom, history);
  expect(rules.code).toBe(1);
  expect(rules.err).toMatch(/^history: promtool wrote no block of recording rules \(did Prometheus serve the history\?\); its log:\n[^]*name=job:nothing_here:sum/);
  for (const left of ['rules-staging', 'rules-staging.log']) expect(existsSync(path.join(prom.dataDir, left)), left).toBe(false);
}, 120_000);
