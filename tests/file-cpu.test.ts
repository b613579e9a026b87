// TPS_TEST_CPU_REPORT (devenv/file-cpu.ts): a real vitest run of two test files, each counted with
// what it started. `cli` runs `tps` commands, each a Node process of its own: their CPU is in its
// line, far more than the test process alone spends; `classify` starts nothing. No cgroup is left.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cpuReportEnv } from '#devenv/file-cpu.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-file-cpu-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cpuacct = '/sys/fs/cgroup/cpuacct';

it('counts each file\'s CPU with every process it started, in one line per file, and leaves no cgroup', () => {
  expect(process.getuid?.() === 0 && existsSync(cpuacct), `counting a file's CPU needs root and cgroup v1's cpuacct at ${cpuacct}`).toBe(true);
  const report = path.join(dir, 'report.jsonl');
  const run = spawnSync('npx', ['vitest', 'run', 'tests/classify.test.ts', 'tests/cli.test.ts'], {
    encoding: 'utf8', env: { ...process.env, [cpuReportEnv]: report, TPS_TEST_WORKERS: '1' }, timeout: 120_000,
  });
  expect(run.status, run.stdout + run.stderr).toBe(0);
  const lines = readFileSync(report, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { file: string; group: string; cpuSeconds: number; wallSeconds: number });
  const byFile = Object.fromEntries(lines.map((l) => [l.file, l]));
  expect(Object.keys(byFile).sort()).toEqual(['tests/classify.test.ts', 'tests/cli.test.ts']);
  expect(byFile['tests/cli.test.ts']?.cpuSeconds).toBeGreaterThan(1);
  expect(byFile['tests/classify.test.ts']?.cpuSeconds).toBeLessThan(byFile['tests/cli.test.ts']?.cpuSeconds ?? 0);
  // Its own groups only: a run that counts its own files' CPU has theirs under way beside it.
  expect(lines.map((l) => l.group)).toEqual([expect.stringMatching(/^tps-test-file-\d+$/), expect.stringMatching(/^tps-test-file-\d+$/)]);
  expect(readdirSync(cpuacct).filter((d) => lines.some((l) => l.group === d))).toEqual([]);
}, 150_000);
