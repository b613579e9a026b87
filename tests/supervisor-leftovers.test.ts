// A supervisor that dies without stopping (kill -9, the OOM killer) leaves its roles and its
// nats-server on their ports: `tps down` stops them, and so does the next `tps up` before it
// starts. And a supervisor's pid that now names another program (after a reboot, or once the pid
// was handed out again) is left alone: by `tps down`, `tps up` and the make scripts' stack_mode.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { portFree } from '#operator/supervisor/port-free.ts';
import { isAlive } from '#operator/supervisor/process-stamp.ts';
import { readState, writeState } from '#operator/supervisor/state-file.ts';
import { waitFor } from '#devenv/nats-server.ts';
import { tps } from '#devenv/cli.ts';
import { freeOffset } from '#devenv/stack.ts';
import { projectRoot } from '#platform/paths.ts';

const dirs: string[] = [];
function stateDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-leftovers-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const d of dirs) await tps(['down'], { TPS_STATE_DIR: d }, { timeoutMs: 60_000 }).catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `tps up` in `dir`, then the supervisor killed outright: its pid and the pids of everything it started. */
async function upThenKillSupervisor(env: Record<string, string>): Promise<{ supervisor: number; children: number[] }> {
  const up = await tps(['up'], env, { timeoutMs: 120_000 });
  expect(up.code, `${up.stdout}\n${up.stderr}`).toBe(0);
  const state = readState(env.TPS_STATE_DIR ?? '');
  const children = (state?.processes ?? []).map((p) => p.pid ?? 0);
  expect(children.length).toBeGreaterThan(5);
  process.kill(state?.pid ?? 0, 'SIGKILL');
  await waitFor(() => !isAlive(state?.pid ?? 0) || undefined, 10_000, () => 'the supervisor to die');
  // What it started goes on running, on its ports: nothing else stops it.
  for (const pid of children) expect(isAlive(pid), `pid ${pid}`).toBe(true);
  return { supervisor: state?.pid ?? 0, children };
}

it('stops what a supervisor killed outright left running: with tps down, and with the next tps up', async () => {
  const offset = await freeOffset();
  const env = { TPS_STATE_DIR: stateDir(), TPS_PORT_OFFSET: String(offset), TPS_MONITORING: 'off' };

  const first = await upThenKillSupervisor(env);
  const status = await tps(['status'], env);
  expect(status.stdout).toContain(`WARNING: the supervisor (pid ${first.supervisor}) is gone without stopping what it started: nothing restarts a role that dies. \`make down\` stops what it left running; then \`make up\`.`);
  const down = await tps(['down'], env, { timeoutMs: 120_000 });
  expect(down.code, down.stderr).toBe(0);
  expect(down.stdout).toMatch(new RegExp(`the supervisor \\(pid ${first.supervisor}\\) is gone without stopping what it started; stopping what it left running: .*nats-server \\(pid \\d+\\).*ingress \\(pid \\d+\\)`));
  for (const pid of first.children) expect(isAlive(pid), `pid ${pid}`).toBe(false);
  for (const port of [4222, 8080, 8081, 9464]) expect(await portFree(port + offset), `port ${port + offset}`).toBe(true);
  expect(readState(env.TPS_STATE_DIR)?.phase).toBe('stopped');

  const second = await upThenKillSupervisor(env);
  const again = await tps(['up'], env, { timeoutMs: 120_000 });
  expect(again.stdout).toMatch(new RegExp(`the last supervisor \\(pid ${second.supervisor}\\) is gone without stopping what it started; stopping what it left running: `));
  expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
  for (const pid of second.children) expect(isAlive(pid), `pid ${pid}`).toBe(false);
  expect((await tps(['down'], env, { timeoutMs: 120_000 })).stdout).toMatch(/^stopped\.$/m);
}, 300_000);

it('leaves alone another program that now has the pid the state names', async () => {
  const dir = stateDir();
  // Another program, alive at the pid a supervisor.json names, as after a reboot.
  const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)'], { stdio: 'ignore' });
  try {
    const pid = other.pid ?? 0;
    writeState(dir, { pid, stamp: 'an-earlier-boot:12345', phase: 'running', startedAt: new Date().toISOString(), nats: { url: 'nats://127.0.0.1:4222', managed: true }, processes: [], notes: [] });
    const down = await tps(['down'], { TPS_STATE_DIR: dir });
    expect(down.stdout).toBe('TPS Lab is not running; nothing to stop.\n');
    expect(isAlive(pid)).toBe(true);
    // The make targets' detection (scripts/stack.sh) agrees: no native stack runs from here.
    const mode = execFileSync('bash', ['-c', '. scripts/stack.sh; stack_mode ""'], { cwd: projectRoot, env: { ...process.env, stack_root: projectRoot, TPS_STATE_DIR: dir, DOCKER_HOST: 'unix:///nonexistent/docker.sock' }, encoding: 'utf8' });
    expect(mode.trim()).toBe('none');
  } finally {
    other.kill();
  }
});
