// `tps up --foreground` in a terminal: Ctrl-C sends SIGINT, and closing the terminal SIGHUP, to
// the whole foreground process group. Only the supervisor must hear it; it then stops everything in
// order, the roles (which drain) before nats-server. Each case starts the command as a terminal
// starts a job, in a process group of its own, and signals that group.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { portFree } from '#operator/supervisor/port-free.ts';
import { processesStartedBy } from '#operator/supervisor/process-stamp.ts';
import { readState } from '#operator/supervisor/state-file.ts';
import { waitFor } from '#devenv/nats-server.ts';
import { tps, tpsBin } from '#devenv/cli.ts';
import { freeOffset } from '#devenv/stack.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await tps(['down'], { TPS_STATE_DIR: d }, { timeoutMs: 60_000 }).catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `tps up --foreground` as a terminal's job, ready; then `signal` to its process group. */
async function foregroundThenSignal(signal: 'SIGINT' | 'SIGHUP'): Promise<{ dir: string; offset: number; stamp: string; out: string; code: number | null }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-signals-'));
  dirs.push(dir);
  const offset = await freeOffset();
  const env = { ...process.env, TPS_STATE_DIR: dir, TPS_PORT_OFFSET: String(offset), TPS_MONITORING: 'off' };
  const child = spawn(tpsBin, ['up', '--foreground'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (d: Buffer) => { out += d.toString(); });
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('close', (c) => resolve(code = c)));
  await waitFor(() => (/all \d+ roles ready/.test(out) || code !== undefined ? true : undefined), 60_000, () => `tps up --foreground to be ready:\n${out}`);
  expect(code, out).toBeUndefined();
  const stamp = readState(dir)?.stamp ?? '';
  expect(stamp).not.toBe('');
  process.kill(-(child.pid ?? 0), signal);
  const exitCode = await exited;
  return { dir, offset, stamp, out, code: exitCode };
}

/** Everything it started is gone and its ports are free; nats-server ran once and no role lost it. */
async function stoppedInOrder(run: { dir: string; offset: number; stamp: string; out: string }): Promise<void> {
  expect(processesStartedBy(run.stamp).map((p) => p.command)).toEqual([]);
  for (const port of [4222, 8080, 8081, 8082, 8083, 9464]) expect(await portFree(port + run.offset), `port ${port + run.offset}`).toBe(true);
  expect(run.out).not.toMatch(/restarting/);
  const logs = path.join(run.dir, 'logs');
  expect(readFileSync(path.join(logs, 'nats.log'), 'utf8').match(/Starting nats-server/g)).toHaveLength(1);
  for (const file of readdirSync(logs).filter((f) => f !== 'nats.log' && f !== 'supervisor.log')) {
    expect(readFileSync(path.join(logs, file), 'utf8'), file).not.toMatch(/disconnected from NATS/);
  }
}

it.each([
  ['Ctrl-C', 'SIGINT'],
  ['a closed terminal', 'SIGHUP'],
] as const)('%s (%s to the process group) stops the roles, then nats-server: nothing restarted, no role cut off from NATS, nothing left', async (_, signal) => {
  const run = await foregroundThenSignal(signal);
  expect(run.code).toBe(0);
  expect(run.out).toContain(`stopping (${signal})`);
  await stoppedInOrder(run);
}, 120_000);
