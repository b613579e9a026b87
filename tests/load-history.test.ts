// prometheus/load-history.sh, compose's loader of a staged history, run as bin/tps runs it (its
// phases, Prometheus restarted between them, the recording rules evaluated between them as the
// tools container does, operator/exam/handoff.ts) against a real Prometheus and real promtool, its
// mounts and address pointed at the test's own. A short history keeps it brief; the compose test
// (tests/docker) runs the exam's whole weekend through the services themselves.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { tps } from '#devenv/cli.ts';
import { startPrometheus, type TestPrometheus } from '#devenv/prometheus.ts';
import { waitForHistory } from '#operator/exam/backfill.ts';
import { evaluateHandedOffRules } from '#operator/exam/handoff.ts';
import { historyWindow, stageHistory } from '#operator/exam/stage.ts';
import { weekendHistory } from '#operator/exam/weekend-history.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'tps-load-history-'));
const hours = 6;
let prometheus: TestPrometheus | undefined;

afterEach(async () => { await prometheus?.stop(); });
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A Prometheus whose data lives elsewhere (as compose's volume does), and the hand-off tps leaves for the script. */
async function staged(name: string, rules = true): Promise<{ prom: TestPrometheus; history: string; end: Date }> {
  prometheus = await startPrometheus(path.join(root, name, 'server'));
  const history = path.join(root, name, 'history');
  const { start, end } = historyWindow(hours);
  const openMetrics = () => weekendHistory({ incident: 'capped-autoscaler', end, hours });
  const note = await stageHistory({ what: 'a short weekend', start, end, openMetrics, blockHours: 24, rules }, { stateDir: path.join(root, name), prometheusUrl: prometheus.url, handoffDir: history });
  expect(note).toMatch(/is written; bin\/tps loads it/);
  return { prom: prometheus, history, end };
}

/** The settings `tps exam history-rules` has in compose's tools container (docker-compose.yml). */
const toolsContainer = (history: string, prom: TestPrometheus) => ({ NATS_URL: 'nats://nats:4222', TPS_HISTORY_DIR: history, TPS_PROMETHEUS_URL: prom.url });

/** One phase of the script, as the prometheus-history service runs it. */
function phase(name: string, prom: TestPrometheus, history: string): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn('sh', ['prometheus/load-history.sh'], { env: { ...process.env, PHASE: name, HISTORY_DIR: history, PROMETHEUS_DATA: prom.dataDir, PROMETHEUS_URL: prom.url } });
  let [out, err] = ['', ''];
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

it('loads the samples, then the rules\' series the tools container evaluated (moved in whole), and after the restart waits until they show', async () => {
  const { prom, history, end } = await staged('whole');
  expect(await phase('blocks', prom, history)).toMatchObject({ code: 0, out: expect.stringContaining('history: written; Prometheus loads it when it restarts') });
  await prom.restart();
  // What bin/tps runs in a tools container between the restarts, with the tools container's settings.
  const evaluated = await tps(['exam', 'history-rules'], toolsContainer(history, prom));
  expect(evaluated.code, evaluated.stderr).toBe(0);
  expect(evaluated.stdout.split('\n')).toEqual(['history: waiting for Prometheus to serve it', expect.stringMatching(/^history: evaluating \d+ recording rules over it/), 'history: the recording rules\' series are written beside it (rules.om)', '']);
  const rules = await phase('rules', prom, history);
  expect(rules.code, rules.err).toBe(0);
  expect(rules.out).toMatch(/history: it is in Prometheus, its recording rules too \([1-9]\d* blocks\)\n$/);
  // Nothing is left aside: every block promtool wrote is in the data folder.
  expect(readdirSync(prom.dataDir).filter((f) => f.startsWith('rules-staging'))).toEqual([]);
  await prom.restart();
  expect(await phase('ready', prom, history)).toEqual({ code: 0, out: 'history: the recording rules\' series show in the history\n', err: '' });
  // The queue fill panel's series. Should it ever be missing, the blocks Prometheus has are shown.
  const at = new Date(end.getTime() - 3_600_000);
  await waitForHistory(prom.url, 'pool:tps_queue_fill:ratio{pool="slow"}', { at, timeoutMs: 30_000 }).catch(async (err: Error) => {
    const body = new URLSearchParams({ query: 'count by (__name__) ({__name__=~".+:.+"})', time: String(at.getTime() / 1000) });
    const names = await (await fetch(`${prom.url}/api/v1/query`, { method: 'POST', body })).text();
    const blocks = readdirSync(prom.dataDir).filter((b) => existsSync(path.join(prom.dataDir, b, 'meta.json')))
      .map((b) => { const m = JSON.parse(readFileSync(path.join(prom.dataDir, b, 'meta.json'), 'utf8')) as { minTime: number; maxTime: number; stats: { numSeries: number }; compaction: { level: number } }; return `${b} ${new Date(m.minTime).toISOString()}..${new Date(m.maxTime).toISOString()} level ${m.compaction.level}, ${m.stats.numSeries} series`; });
    throw new Error(`${err.message}\nrecorded series at ${at.toISOString()}: ${names}\nblocks:\n${blocks.join('\n')}`);
  });
}, 180_000);

it('without rules (lab 3.5), the ready phase waits for the samples; a phase not given says how to load by hand', async () => {
  const { prom, history } = await staged('samples', false);
  expect((await phase('blocks', prom, history)).code).toBe(0);
  await prom.restart();
  expect(await phase('rules', prom, history)).toEqual({ code: 0, out: 'history: no recording rules asked for this history (RULES=0)\n', err: '' });
  expect(await phase('ready', prom, history)).toEqual({ code: 0, out: 'history: it is in Prometheus\n', err: '' });
  expect(await phase('', prom, history)).toEqual({ code: 2, out: '', err: 'history: PHASE must be blocks, rules or ready (got ""); to load a history by hand, with Prometheus\' restarts: scripts/compose.sh load-history\n' });
}, 120_000);

it('fails, with the reason, when the rules evaluate to nothing or were not evaluated, and leaves no folder behind', async () => {
  const { prom, history } = await staged('empty');
  expect((await phase('blocks', prom, history)).code).toBe(0);
  // The rules' series were not evaluated (no rules.om): the phase says what comes first.
  expect(await phase('rules', prom, history)).toEqual({ code: 1, out: '', err: 'history: no recording rules\' series beside the history (rules.om): bin/tps evaluates them first (tps exam history-rules)\n' });
  // Not restarted: Prometheus does not serve the history, and every rule evaluates to nothing.
  await expect(evaluateHandedOffRules(history, prom.url, () => undefined, 2_000)).rejects.toThrow(/^Prometheus at .+ did not show last_over_time\(up\[1h\]\) at .+ within 2000 ms/);
  // The command run where nothing was handed off, or outside compose's tools container.
  const nothing = await tps(['exam', 'history-rules'], toolsContainer(path.join(root, 'empty', 'no-such-folder'), prom));
  expect([nothing.code, nothing.stderr]).toEqual([1, expect.stringMatching(/^tps: history: nothing handed off in .+no-such-folder \(no request\.env\): stage a history first \(tps exam 2 start\)\n/)]);
  const outside = await tps(['exam', 'history-rules'], { ...toolsContainer(history, prom), TPS_HISTORY_DIR: '' });
  expect([outside.code, outside.stderr.split('\n')[0]]).toEqual([2, 'tps: tps exam history-rules evaluates the recording rules over a history handed off in compose: TPS_HISTORY_DIR is not set']);
  // An empty rules.om (no series): promtool writes nothing, and the phase fails saying so.
  writeFileSync(path.join(history, 'rules.om'), '# EOF\n');
  const rules = await phase('rules', prom, history);
  expect(rules).toMatchObject({ code: 1, err: 'history: promtool wrote no block of the recording rules\' series (is rules.om empty?)\n' });
  for (const left of ['rules-staging', 'rules-staging.log']) expect(existsSync(path.join(prom.dataDir, left)), left).toBe(false);
}, 120_000);
