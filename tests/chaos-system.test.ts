// System faults through a real supervisor: nats_down stops the nats-server it started and NATS
// comes back at expiry (the roles reconnect) or at once on clear; autoscaler_down stops the
// autoscaler until reset; nats_down is refused when the supervisor did not start NATS itself.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '#platform/config.ts';
import { roles } from '#services/registry.ts';
import { answers } from '#operator/supervisor/broker.ts';
import { readState } from '#operator/supervisor/state-file.ts';
import { startSupervisor, type Supervisor } from '#operator/supervisor/supervisor.ts';
import { tps } from '#devenv/cli.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { postJob } from '#devenv/roles.ts';
import { freeOffset, metricValue } from '#devenv/stack.ts';
import { unusedPort } from '#devenv/ports.ts';

type Native = { dir: string; env: Record<string, string>; supervisor: Supervisor; lines: string[]; url(role: 'ingress' | 'autoscaler'): string };
const started: Native[] = [];
let natsPort = 0;
let native: Native;
let external: NatsServerHandle;

/** A supervisor in a temp state folder with only the roles a test needs (faster on 2 cores). */
async function startNative(natsUrl: string, names: string[], extra: Record<string, string> = {}): Promise<Native> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-sys-'));
  const offset = await freeOffset();
  const env = { TPS_STATE_DIR: dir, TPS_PORT_OFFSET: String(offset), TPS_MONITORING: 'off', LOG_LEVEL: 'info', NATS_URL: natsUrl, ...extra };
  const lines: string[] = [];
  const config = loadConfig(env);
  const supervisor = await startSupervisor(config, names.map((n) => roles[n]!), (line) => lines.push(line), { childEnv: env });
  const n: Native = { dir, env, supervisor, lines, url: (role) => `http://127.0.0.1:${(roles[role]?.port ?? 0) + offset}` };
  started.push(n);
  return n;
}

beforeAll(async () => {
  natsPort = await unusedPort();
  native = await startNative(`nats://127.0.0.1:${natsPort}`, ['ingress', 'autoscaler']);
}, 60_000);
afterAll(async () => {
  for (const n of started) {
    await n.supervisor.stop('test done');
    rmSync(n.dir, { recursive: true, force: true });
  }
  await external?.dispose();
});

const chaos = (n: Native, ...args: string[]) => tps(['chaos', ...args], n.env);
const natsUp = () => answers('127.0.0.1', natsPort);
const accepts = async () => (await postJob(native.url('ingress'), { type: 'fast.echo' }).catch(() => ({ status: 0 }))).status === 202;

it('nats_down stops NATS, shows in list and in the gauge (what tps status reads), and NATS comes back at expiry with the roles reconnected', async () => {
  expect(await accepts()).toBe(true);
  const set = await chaos(native, 'set', 'nats', 'nats_down', '--duration', '60s');
  expect(set.stderr).toBe('');
  expect(set.stdout).toMatch(/^nats: nats_down on until \d\d:\d\d:\d\d \(1m\)\nNATS is stopped; it starts again at expiry/);
  expect(await natsUp()).toBe(false);
  expect(readState(native.dir)?.systemFaults?.map((f) => f.fault)).toEqual(['nats_down']);
  const list = await chaos(native, 'list');
  expect(list.stdout).toMatch(/nats\s+nats_down\s+-/);
  expect(list.stderr).toMatch(/process faults not shown: nats_down has stopped NATS/);
  // The copy made before NATS stopped reaches the ingress, which exports the system faults' gauge.
  expect(await metricValue(native.url('ingress'), /^tps_chaos_fault_active\{target="nats",fault="nats_down"\}/)).toBe(1);
  await waitFor(async () => ((await postJob(native.url('ingress'), { type: 'fast.echo' })).status === 503 ? true : undefined), 5_000, () => 'the ingress to refuse while NATS is down');

  // Set again with a short duration (it replaces the first): NATS must come back at expiry.
  expect((await chaos(native, 'set', 'nats', 'nats_down', '--duration', '1s')).stdout).toMatch(/\(1s\)/);
  await waitFor(async () => ((await natsUp()) ? true : undefined), 10_000, () => 'NATS to start again at expiry');
  await waitFor(async () => ((await accepts()) ? true : undefined), 20_000, () => 'the ingress to accept jobs again');
  await waitFor(async () => ((await metricValue(native.url('ingress'), /^tps_chaos_fault_active\{target="nats",fault="nats_down"\}/)) === 0 ? true : undefined), 15_000, () => 'the copy to be removed');
  expect((await chaos(native, 'list')).stdout.trim()).toBe('no chaos faults active');
  expect(native.lines.join('\n')).toMatch(/chaos: nats_down on nats expired/);
});

it('clear starts NATS again at once', async () => {
  expect((await chaos(native, 'set', 'nats', 'nats_down')).stdout).toMatch(/\(10m\)/);
  expect(await natsUp()).toBe(false);
  const cleared = await chaos(native, 'clear', 'nats');
  expect(cleared.stdout).toMatch(/cleared nats: nats_down \(started again\)/);
  await waitFor(async () => ((await natsUp()) ? true : undefined), 5_000, () => 'NATS to start again');
  await waitFor(async () => ((await accepts()) ? true : undefined), 20_000, () => 'the ingress to accept jobs again');
});

it('autoscaler_down stops the autoscaler, and reset starts it again', async () => {
  const pid = native.supervisor.pidOf('autoscaler');
  expect(pid).toBeGreaterThan(0);
  expect((await chaos(native, 'set', 'autoscaler', 'autoscaler_down', '--duration', '5m')).code).toBe(0);
  expect(native.supervisor.pidOf('autoscaler')).toBeUndefined();
  expect(readState(native.dir)?.processes.find((p) => p.name === 'autoscaler')?.state).toBe('paused');
  expect((await fetch(`${native.url('autoscaler')}/healthz`).catch(() => undefined))?.status).toBeUndefined();
  const reset = await chaos(native, 'reset');
  expect(reset.stdout).toMatch(/cleared autoscaler: autoscaler_down \(started again\)/);
  await waitFor(async () => ((await fetch(`${native.url('autoscaler')}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined), 15_000, () => 'the autoscaler to be back');
  expect(native.supervisor.pidOf('autoscaler')).not.toBe(pid);
});

it('refuses nats_down when the supervisor uses a NATS it did not start', async () => {
  external = await startNatsServer();
  const other = await startNative(external.url, [], { TPS_EXTERNAL_NATS: 'true' });
  const r = await chaos(other, 'set', 'nats', 'nats_down');
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/nats_down refused: this supervisor did not start nats-server; it uses the NATS already answering at nats:\/\/127\.0\.0\.1:\d+/);
  expect(await answers('127.0.0.1', external.port)).toBe(true);
});
