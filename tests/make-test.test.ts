// `make test`'s own script (scripts/test.sh): its clean-up on exit removes what the run made and
// keeps the run's exit status. `make test-unit` (no compose phase, so nothing of the engine's to
// clean) once printed "passed" and exited 1, the status of the clean-up's last `[ -n ... ]`.
// The clean-up function is taken from the script itself and run as the script runs it: an EXIT
// trap under `set -euo pipefail`, after a run that passed or failed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
