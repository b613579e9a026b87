// Native run mode: `tps up` brings the system up (starting NATS only when none answers), with
// as many worker processes per pool as asked, restarts a crashed role, and `tps down` stops
// exactly what it started.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { portFree } from '#services/supervisor/ports.ts';
import { isAlive, readState } from '#services/supervisor/state-file.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from './helpers/nats-server.ts';
import { tps } from './helpers/cli.ts';
import { postJob } from './helpers/roles.ts';
import { unusedPort } from './helpers/ports.ts';

let external: NatsServerHandle;
let dir: string;
beforeAll(async () => {
  external = await startNatsServer();
  dir = mkdtempSync(path.join(os.tmpdir(), 'tps-up-'));
});
afterAll(async () => {
  await tps(['down'], env(), { timeoutMs: 60_000 }).catch(() => undefined);
  await external?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

let offset = 0;
function env(extra: Record<string, string> = {}): Record<string, string> {
  return { TPS_STATE_DIR: dir, TPS_PORT_OFFSET: String(offset), ...extra };
}

/** An offset at which every default port of the roles is free on this machine. */
async function freeOffset(): Promise<number> {
  for (let candidate = 20_000 + (process.pid % 50) * 100; ; candidate += 17) {
    const ports = [8080, 8081, 8082, 8083, 8222, 9464, 9465, 9466, 9472].map((p) => p + candidate);
    if ((await Promise.all(ports.map((p) => portFree(p)))).every(Boolean)) return candidate;
  }
}

it('starts its own NATS and the roles (two fast workers), restarts a crashed role, and stops it all', async () => {
  offset = await freeOffset();
  const natsPort = await unusedPort();
  const up = await tps(['up'], env({ NATS_URL: `nats://127.0.0.1:${natsPort}`, WORKERS_FAST: '2' }));
  expect(up.stderr).toBe('');
  expect(up.code).toBe(0);
  expect(up.stdout).toMatch(/started nats-server/);
  expect(up.stdout).toMatch(/all \d+ roles ready in [\d.]+ s/);
  expect(up.stdout).toMatch(new RegExp(`\\nworker-fast-2 +http://127\\.0\\.0\\.1:${9472 + offset}\\n`));
  const state = readState(dir);
  const replica = state?.processes.find((p) => p.name === 'worker-fast-2');
  expect(replica).toMatchObject({ ready: true, state: 'running' });
  expect(state?.phase).toBe('running');
  expect(state?.nats.managed).toBe(true);
  const ingress = state?.processes.find((p) => p.name === 'ingress');
  const base = `http://127.0.0.1:${8080 + offset}`;
  expect(ingress?.url).toBe(base);
  expect((await postJob(base, { type: 'fast.echo' })).status).toBe(202);

  const again = await tps(['up'], env({ NATS_URL: `nats://127.0.0.1:${natsPort}` }));
  expect(again.stdout).toMatch(/already running/);

  process.kill(ingress?.pid ?? 0, 'SIGKILL');
  const restarted = await waitFor(() => {
    const s = readState(dir)?.processes.find((p) => p.name === 'ingress');
    return s && s.restarts >= 1 && s.ready ? s : undefined;
  }, 20_000, () => 'the ingress to be restarted');
  expect(restarted.pid).not.toBe(ingress?.pid);
  expect((await postJob(base, { type: 'fast.echo' })).status).toBe(202);

  const pids = [state?.pid ?? 0, restarted.pid ?? 0, replica?.pid ?? 0];
  const down = await tps(['down'], env());
  expect(down.code).toBe(0);
  expect(down.stdout).toMatch(/nats-server\s+stopped/);
  for (const pid of pids) expect(isAlive(pid)).toBe(false);
  expect(await portFree(natsPort)).toBe(true);
  expect((await tps(['down'], env())).stdout).toMatch(/not running; nothing to stop/);
});

it('uses a NATS that already answers and leaves it running', async () => {
  offset = await freeOffset();
  const up = await tps(['up'], env({ NATS_URL: external.url }));
  expect(up.code).toBe(0);
  expect(up.stdout).toMatch(/using the NATS already answering/);
  const down = await tps(['down'], env());
  expect(down.code).toBe(0);
  expect(down.stdout).not.toMatch(/nats-server\s+stopped/);
  expect(await portFree(external.port)).toBe(false);
});

it('refuses to start when a role port is taken, saying which', async () => {
  offset = await freeOffset();
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(8080 + offset, '127.0.0.1', resolve));
  try {
    const up = await tps(['up'], env({ NATS_URL: external.url }));
    expect(up.code).toBe(1);
    expect(up.stderr).toMatch(new RegExp(`ports already in use: ingress \\(${8080 + offset}\\)`));
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});
