// `make test`'s own script (scripts/test.sh): its clean-up on exit removes what the run made and
// keeps the run's exit status. `make test-unit` (no compose phase, so nothing of the engine's to
// clean) once printed "passed" and exited 1, the status of the clean-up's last `[ -n ... ]`.
// The clean-up function is taken from the script itself and run as the script runs it: an EXIT
// trap under `set -euo pipefail`, after a run that passed or failed.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { projectRoot } from '#platform/paths.ts';

const script = readFileSync(path.join(projectRoot, 'scripts/test.sh'), 'utf8');
const cleanup = /^cleanup\(\) \{\n[\s\S]*?\n\}$/m.exec(script)?.[0];
const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-make-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The script's variables as a run without the compose phase leaves them, then the run's last command. */
function exitAfter(lastCommand: string, vars: { testTmp?: string } = {}): { status: number | null; lock: string; testTmp: string | undefined } {
  const lock = mkdtempSync(path.join(dir, 'lock-'));
  const body = [
    'set -euo pipefail',
    `TPS_TEST_MACHINE_LOCK=${lock}`,
    `test_tmp='${vars.testTmp ?? ''}' prepare_pid='' prepare_log='' stack_ran=0`,
    cleanup,
    'trap cleanup EXIT',
    lastCommand,
  ].join('\n');
  const r = spawnSync('bash', ['-c', body], { cwd: projectRoot, encoding: 'utf8' });
  return { status: r.status, lock, testTmp: vars.testTmp };
}

it('finds the clean-up in the script', () => {
  expect(cleanup).toContain('rm -rf "$TPS_TEST_MACHINE_LOCK"');
});

it('a run that passed exits 0 once cleaned up, with nothing of the compose phase to clean', () => {
  const testTmp = path.join(dir, 'shm-like');
  mkdirSync(testTmp);
  const passed = exitAfter('echo "== make test: passed"', { testTmp });
  expect(passed.status).toBe(0);
  expect(existsSync(passed.lock)).toBe(false);
  expect(existsSync(testTmp)).toBe(false);
  expect(exitAfter('true').status).toBe(0);
});

it('a run that failed keeps its status through the clean-up', () => {
  const failed = exitAfter('(exit 3)');
  expect(failed.status).toBe(3);
  expect(existsSync(failed.lock)).toBe(false);
});

it('a background build killed by the clean-up does not end it before the engine is stopped and its log removed', () => {
  // The clean-up run where the compose phase did not run: a live background build (a sleep here,
  // which dies of the SIGTERM: its `wait` says 143), its log, and the engine's stop, a stand-in
  // script in a folder of the test's own that notes it was called (never the run's real engine).
  const work = mkdtempSync(path.join(dir, 'prepared-'));
  mkdirSync(path.join(work, 'tests/docker'), { recursive: true });
  const stopped = path.join(work, 'engine-stopped');
  writeFileSync(path.join(work, 'tests/docker/engine.sh'), `#!/bin/sh\n[ "$1" = stop ] && touch ${JSON.stringify(stopped)}\n`);
  chmodSync(path.join(work, 'tests/docker/engine.sh'), 0o755);
  const log = path.join(work, 'prepare.log');
  writeFileSync(log, 'building\n');
  const lock = mkdtempSync(path.join(dir, 'lock-'));
  const body = [
    'set -euo pipefail',
    `TPS_TEST_MACHINE_LOCK=${lock}`,
    `test_tmp='' prepare_log='${log}' stack_ran=0`,
    'sleep 60 & prepare_pid=$!',
    cleanup,
    'trap cleanup EXIT',
    '(exit 3)',
  ].join('\n');
  const r = spawnSync('bash', ['-c', body], { cwd: work, encoding: 'utf8', timeout: 30_000 });
  expect(r.status).toBe(3);
  expect(existsSync(stopped)).toBe(true);
  expect(existsSync(log)).toBe(false);
  expect(existsSync(lock)).toBe(false);
});
