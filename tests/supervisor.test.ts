// Native run mode: `tps up` brings the system up on its own nats-server (never one that merely
// answers at NATS_URL: that takes TPS_EXTERNAL_NATS, and a warning), with as many worker processes
// per pool as asked, restarts a crashed role, and `tps down` stops exactly what it started.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { operatorEnvFile } from '#platform/nats/credentials.ts';
import { hostPort } from '#operator/supervisor/broker.ts';
import { portFree } from '#operator/supervisor/port-free.ts';
import { isAlive } from '#operator/supervisor/process-stamp.ts';
import { readState } from '#operator/supervisor/state-file.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { tps, tpsBin } from '#devenv/cli.ts';
import { postJob } from '#devenv/roles.ts';
import { freeOffset } from '#devenv/stack.ts';

let external: NatsServerHandle;
let dir: string;
const dirs: string[] = [];
function newStateDir(): void {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tps-up-'));
  dirs.push(dir);
}
beforeAll(async () => {
  external = await startNatsServer();
  newStateDir();
});
afterAll(async () => {
  for (const d of dirs) await tps(['down'], { TPS_STATE_DIR: d }, { timeoutMs: 60_000 }).catch(() => undefined);
  await external?.dispose();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Every role held 5 s before it starts, as on a slow machine: the cases that act while the roles
 * start cannot count on a real start's length (warm and idle, a whole stack is ready in a second,
 * and the `--timeout 1` case once waited 180 s on a running stack). */
function rolesHeld(): Record<string, string> {
  const hold = path.join(dir, 'hold-roles.mjs');
  writeFileSync(hold, 'if (process.env.INSTANCE_ID) await new Promise((resolve) => setTimeout(resolve, 5_000));\n');
  return { NODE_OPTIONS: `--import=${pathToFileURL(hold).href}` };
}

let offset = 0;
function env(extra: Record<string, string> = {}): Record<string, string> {
  return { TPS_STATE_DIR: dir, TPS_PORT_OFFSET: String(offset), ...extra };
}

it('starts its own NATS beside an unauthenticated one on its port, and the roles (two fast workers), restarts a crashed role, and stops it all', async () => {
  offset = await freeOffset();
  // The hazard: a NATS without users already answers where tps up would put its own.
  const squatter = await startNatsServer({ port: 4222 + offset });
  try {
    await upBesideSquatter(squatter);
  } finally {
    await squatter.dispose();
  }
  // A whole native stack up, a crash and a restart, then down: a deadline against a hang, not a speed goal.
}, 120_000);

async function upBesideSquatter(squatter: NatsServerHandle): Promise<void> {
  const up = await tps(['up'], env({ WORKERS_FAST: '2' }));
  // Its output holds the supervisor's progress lines: which role failed, and why.
  expect(up.code, `tps up failed:\n${up.stderr}\n${up.stdout}`).toBe(0);
  expect(up.stderr).toBe('');
  expect(up.stdout).toContain(`port ${squatter.port} is taken by a NATS server tps up did not start, without authentication; nats-server listens on`);
  expect(up.stdout).toMatch(/started nats-server at nats:\/\/127\.0\.0\.1:\d+ with the per-role users/);
  expect(up.stdout).not.toMatch(/WARNING/);
  expect(up.stdout).toMatch(/all \d+ roles ready in [\d.]+ s/);
  expect(up.stdout).toMatch(new RegExp(`\\nworker-fast-2 +http://127\\.0\\.0\\.1:${9472 + offset}\\n`));
  // Where this TPS_STATE_DIR keeps the logs, not the default's .tps/logs.
  expect(up.stdout).toContain(`Stop: make down   (logs in ${path.relative(process.cwd(), path.join(dir, 'logs'))}/)`);
  const state = readState(dir);
  const replica = state?.processes.find((p) => p.name === 'worker-fast-2');
  expect(replica).toMatchObject({ ready: true, state: 'running' });
  expect(state?.phase).toBe('running');
  expect(state?.nats.managed).toBe(true);
  const natsUrl = state?.nats.url ?? '';
  expect(natsUrl).not.toBe(squatter.url);
  expect(readFileSync(operatorEnvFile(dir), 'utf8')).toContain(`NATS_URL=${natsUrl}\n`);
  await expect(connect({ servers: natsUrl })).rejects.toThrow(/Authorization/i);
  // Operator commands find the stack's own NATS (bin/tps reads operator.env), not the squatter.
  const breakers = await tps(['breaker', 'list', '--json'], env());
  expect(breakers.code, breakers.stderr).toBe(0);
  expect(breakers.stdout).toContain('worker-fast->service-a');
  const ingress = state?.processes.find((p) => p.name === 'ingress');
  const base = `http://127.0.0.1:${8080 + offset}`;
  expect(ingress?.url).toBe(base);
  expect((await postJob(base, { type: 'fast.echo' })).status).toBe(202);

  const again = await tps(['up'], env());
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
  expect(await portFree(hostPort(natsUrl).port)).toBe(true);
  expect((await tps(['down'], env())).stdout).toMatch(/not running; nothing to stop/);
  // The squatter was never used: no stream, and it still runs.
  const nc = await connect({ servers: squatter.url });
  expect((await (await jetstreamManager(nc)).getAccountInfo()).streams).toBe(0);
  await nc.close();
}

it('uses a NATS it did not start only when told to (TPS_EXTERNAL_NATS), warning in up and status, and leaves it running', async () => {
  offset = await freeOffset();
  const refused = await tps(['up'], env({ NATS_URL: external.url }));
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain(`NATS_URL=${external.url}: port ${external.port} is taken by a NATS server tps up did not start, without authentication.`);
  expect(refused.stderr).toMatch(/set TPS_EXTERNAL_NATS=true to use that server as it is/);
  const up = await tps(['up'], env({ NATS_URL: external.url, TPS_EXTERNAL_NATS: 'true' }));
  expect(up.code, up.stderr).toBe(0);
  const warning = `WARNING: TPS_EXTERNAL_NATS=true: using the NATS at ${external.url}, which asks for no credentials`;
  expect(up.stdout).toContain(`using the NATS at ${external.url} (TPS_EXTERNAL_NATS=true)`);
  expect(up.stdout.split(warning).length - 1).toBe(2); // as it starts, and in the summary
  const status = await tps(['status', '--interval', '0.2', '--no-color'], env());
  expect(status.stdout).toContain(`✗ ${warning}`);
  const down = await tps(['down'], env());
  expect(down.code).toBe(0);
  expect(down.stdout).not.toMatch(/nats-server\s+stopped/);
  expect(await portFree(external.port)).toBe(false);
  // Two ups, a status and a down: a deadline against a hang (it ran past 30 s in a loaded CI run).
}, 90_000);

it('refuses to start when a role port is taken, saying which', async () => {
  offset = await freeOffset();
  // A state folder of its own: what an earlier test left running must not answer for this one.
  newStateDir();
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(8080 + offset, '127.0.0.1', resolve));
  try {
    const up = await tps(['up'], env({ NATS_URL: external.url }));
    expect(up.code).toBe(1);
    expect(up.stderr).toMatch(new RegExp(`^tps: TPS Lab did not start: ports already in use: ingress \\(${8080 + offset}\\)\\. Is TPS Lab already running \\(\`tps down\`\\)\\? If another program holds them, stop it, or move every port of TPS Lab: TPS_PORT_OFFSET=${offset + 100} make up \\(ingress then on ${8180 + offset}\\)\\. See `));
    // The supervisor's own report (echoed by tps up) is the operator's message, not an "unexpected error".
    expect(up.stdout).toMatch(/tps: ports already in use: ingress/);
    expect(up.stdout).not.toMatch(/unexpected error/);
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});

it('gives the roles the time `tps up --timeout` asks for, and says which were not ready then, stopping what it started', async () => {
  offset = await freeOffset();
  newStateDir();
  // It stops what it started before it exits: each role gets its drain (a loaded CI's can take a minute).
  const up = await tps(['up', '--foreground', '--timeout', '1'], env({ TPS_MONITORING: 'off', ...rolesHeld() }), { timeoutMs: 180_000 });
  expect(up.code, up.stdout).toBe(1);
  expect(up.stderr).toMatch(/^tps: not ready within 1 s: [a-z-]+(, [a-z0-9-]+)* \(see \.tps\/logs\/; a slow or busy machine may need `tps up --timeout <seconds>`\)\n$/);
  expect(up.stdout).toMatch(/stopping \(start failed\)/);
  const state = readState(dir);
  expect(state?.phase).toBe('failed');
  expect(state?.processes.map((p) => p.state)).toEqual(state?.processes.map(() => 'stopped'));
  for (const port of [4222, 8080, 8081, 8082, 8083, 9464, 9465]) expect(await portFree(port + offset), `port ${port + offset}`).toBe(true);
}, 240_000);

it('leaves nothing running when `tps up` gives up while the roles start: the supervisor stops what it started', async () => {
  offset = await freeOffset();
  newStateDir();
  const up = await tps(['up', '--timeout', '1'], env({ TPS_MONITORING: 'off', ...rolesHeld() }), { timeoutMs: 60_000 });
  expect(up.code, up.stdout).toBe(1);
  expect(up.stderr).toMatch(/^tps: TPS Lab was not ready within 1 s; stopped it\./);
  const supervisorPid = Number(/supervisor pid (\d+)/.exec(up.stdout)?.[1]);
  expect(supervisorPid).toBeGreaterThan(0);
  // SIGTERM came while it was starting: it stops its nats-server and roles, then ends (on a loaded
  // machine it may come before the supervisor has begun: then there is nothing to stop). The
  // supervisor has the same 1 s of its own (`--timeout` reaches it too), so in a loaded CI it may
  // give up first, by itself: the same stop, another reason.
  await waitFor(() => !isAlive(supervisorPid) || undefined, 180_000, () => `supervisor ${supervisorPid} to end`);
  const ended = readState(dir);
  if (ended) {
    expect(ended.phase).toBe('failed');
    expect(ended.error).toMatch(/stopped while starting \(SIGTERM\)|^not ready within 1 s: /);
  }
  for (const port of [4222, 8080, 8081, 9464]) expect(await portFree(port + offset), `port ${port + offset}`).toBe(true);
}, 240_000);

it('cancels the start on Ctrl-C while the roles start: stops what it started and exits with 130', async () => {
  offset = await freeOffset();
  newStateDir();
  const child = spawn(tpsBin, ['up', '--timeout', '600'], { env: { ...process.env, ...env({ TPS_MONITORING: 'off', ...rolesHeld() }) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  // Ctrl-C as soon as NATS is up: the roles, held 5 s, are not ready yet.
  await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes('started nats-server')) resolve();
  }));
  child.kill('SIGINT');
  const code = await exited;
  expect(stdout).toContain('Ctrl-C: stopping what has started');
  expect(stdout).not.toContain('Try:');
  expect(stderr).toBe('tps: start cancelled (Ctrl-C); everything it had started is stopped.\n');
  expect(code).toBe(130);
  const supervisorPid = Number(/supervisor pid (\d+)/.exec(stdout)?.[1]);
  expect(isAlive(supervisorPid)).toBe(false);
  expect(readState(dir)?.error).toMatch(/stopped while starting \(SIGTERM\)/);
  for (const port of [4222, 8080, 8081, 9464]) expect(await portFree(port + offset), `port ${port + offset}`).toBe(true);
}, 240_000);
