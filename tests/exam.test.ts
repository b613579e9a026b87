// The Level 2 practical exam (`tps exam 2`) against a real stack through the real command: each
// incident leaves its residue recorded under the weekend on-call's name; doing nothing fails every
// part with its reason; a wrong root cause fails that part; solved, the exam passes, and the report
// says which parts a person must still grade. (The weekend history in Prometheus: exam-history.test.ts.)
import { jetstreamManager } from '@nats-io/jetstream';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tps } from '#devenv/cli.ts';
import { waitFor } from '#devenv/nats-server.ts';
import { startOtlpReceiver, type OtlpReceiver } from '#devenv/otlp-receiver.ts';
import { startCliStack, type CliStack } from '#devenv/cli-stack.ts';
import { startPrometheus } from '#devenv/prometheus.ts';
import { streams } from '#platform/nats/subjects.ts';
import type { Stack } from '#devenv/stack.ts';
import { untilPassed } from '#devenv/lab-runs.ts';

let run: CliStack;
let receiver: OtlpReceiver;
let stack: Stack;
let env: Record<string, string>;
const exam = (...args: string[]) => tps(['exam', '2', ...args], env);
const oncall = () => (JSON.parse(readFileSync(path.join(stack.stateDir, 'labs', 'exam-2.json'), 'utf8')) as { choices: Record<string, string> }).choices.oncall ?? '';

beforeAll(async () => {
  // Traced to a receiver of the test's own: the report's evidence is the dead-lettered jobs' traces.
  receiver = await startOtlpReceiver();
  // No Prometheus for this stack: the exam's PromQL checks fall back to the roles' metrics and events.
  run = await startCliStack({ LOG_LEVEL: 'warn', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '50' });
  ({ stack, env } = run);
}, 120_000);
afterAll(async () => {
  await run?.stop();
  await receiver?.close();
});


const residue: Record<string, { command: string[]; shows: RegExp }> = {
  'capped-autoscaler': { command: ['autoscaler', 'status'], shows: /cap/i },
  'leaking-worker': { command: ['chaos', 'list'], shows: /worker-slow +memory_leak/ },
  'slow-downstream': { command: ['chaos', 'list'], shows: /service-c +latency/ },
};

describe('tps exam 2', () => {
  for (const incident of Object.keys(residue)) {
    it(`${incident}: the residue under the on-call's name, every part failing when nothing was done, passed once solved`, async () => {
      const start = await exam('start', '--choose', `incident=${incident}`);
      expect(start.code, start.stderr).toBe(0);
      expect(start.stdout).toMatch(/history: not staged: no Prometheus at http:\/\/127\.0\.0\.1:\d+/);
      expect(start.stdout).toContain('Lab exam-2: Level 2 practical exam: Monday morning');
      const shown = await tps(residue[incident]?.command ?? [], env);
      expect(shown.stdout).toMatch(residue[incident]?.shows ?? /never/);
      expect(shown.stdout).toContain(`${oncall()} (weekend on-call)`);
      if (incident === 'slow-downstream') {
        expect(start.stdout).toContain('dead letters: 24 slow.report jobs in the DLQ (DOWNSTREAM_FAILED), left by the history');
        expect((await tps(['dlq', 'list'], env)).stdout).toMatch(/slow\.report +DOWNSTREAM_FAILED/);
      }

      const idle = await exam('check');
      expect(idle.code).toBe(1);
      expect(idle.stdout).toMatch(/FAIL {2}abnormal .*no answer yet: tps exam 2 answer abnormal=<metric>,<metric>,\.\.\./);
      expect(idle.stdout).toMatch(/FAIL {2}health .*(active|capped at 8)/);
      expect(idle.stdout).toMatch(/FAIL {2}recommendations .*nothing written yet/);
      expect(idle.stdout).toMatch(/not passed, score 0 %/);

      expect((await exam('answer', 'cause=traffic-spike', 'abnormal=tps_http_requests,up')).code).toBe(0);
      const wrong = await exam('check');
      expect(wrong.stdout).toMatch(/FAIL {2}root-cause .*cause=traffic-spike is not it/);
      expect(wrong.stdout).toMatch(/FAIL {2}abnormal .*0 right, not abnormal: tps_http_requests, up/);

      const solved = await exam('solve');
      expect(solved.code, solved.stderr + solved.stdout).toBe(0);
      if (incident === 'slow-downstream') expect(solved.stdout).toContain('replayed 24 DLQ entries');
      expect(await untilPassed(['exam', '2', 'check'], env)).toMatch(/PASSED, score 100 %/);
      const report = await exam('report');
      expect(report.stdout).toMatch(/\| the logs and audit events read \(who made the change\) \| 2 \| pass \| .* \| machine and person \|/);
      expect(report.stdout).toContain('A person must still grade the content of: the logs and audit events read (who made the change); recommendations written');
      if (incident === 'slow-downstream') {
        // The evidence: the slowest traces of the residue's jobs, by the id Jaeger opens; the staged
        // dead letters have none.
        const traced = /## Evidence: traces[\s\S]*?\n\| ([0-9a-f]{32}) \| [\d.]+ \| worker-slow \|/.exec(report.stdout);
        expect(traced, report.stdout).not.toBeNull();
        await waitFor(() => receiver.trace(traced?.[1] ?? '').length > 0 || undefined, 10_000, () => `spans of trace ${traced?.[1]}`);
        expect(report.stdout).toContain('24 dead-lettered job(s) since the lab started, none with a trace id');
      } else {
        expect(report.stdout).toContain('No traced observations since the lab started');
      }
      expect((await exam('stop')).code).toBe(0);
    }, 150_000);
  }

  it('refuses an exam that does not exist and a choice the exam does not make', async () => {
    const unknown = await tps(['exam', '4'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('which exam? The practical exams are: 2, 3 (tps exam 2, tps exam 3)');
    const bad = await exam('start', '--choose', 'incident=meteor');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('incident must be one of slow-downstream, leaking-worker, capped-autoscaler; got "meteor"');
  });

  it('a weekend that cannot be staged fails the start and leaves nothing set (no cap, no fault)', async () => {
    // A Prometheus that answers, keeping its data elsewhere (as compose's does), and a hand-off
    // folder that cannot be made.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-exam-prometheus-'));
    const prometheus = await startPrometheus(dir);
    try {
      const start = await tps(['exam', '2', 'start', '--choose', 'incident=capped-autoscaler'], { ...env, TPS_PROMETHEUS_URL: prometheus.url, TPS_HISTORY_DIR: '/dev/null/history' });
      expect([start.code, start.stderr]).toEqual([1, expect.stringMatching(/^tps: history: the hand-off folder \/dev\/null\/history \(TPS_HISTORY_DIR\) cannot be made: ENOTDIR/m)]);
      expect(start.stderr).not.toMatch(/\n\s+at /);
      expect((await tps(['autoscaler', 'status'], env)).stdout).not.toMatch(/weekend on-call/);
      expect((await tps(['chaos', 'list'], env)).stdout).not.toMatch(/weekend on-call/);
    } finally {
      await prometheus.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  // Last in this file: it takes the DLQ stream away.
  it('a setup that fails part way undoes what it had set: the fault, when the dead letters cannot be staged', async () => {
    await (await jetstreamManager(stack.nc)).streams.delete(streams.dlq);
    const start = await exam('start', '--choose', 'incident=slow-downstream');
    expect(start.code, start.stdout + start.stderr).toBe(1);
    expect(start.stderr).not.toMatch(/\n\s+at /);
    expect((await tps(['chaos', 'list'], env)).stdout).not.toMatch(/service-c +latency/);
  }, 60_000);
});
