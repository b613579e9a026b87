// Worker replicas in native mode (lab 2.5): WORKERS_FAST=3 at start runs three worker-fast
// processes on the one durable consumer; `tps scale fast --replicas <n>` stops and starts them
// live, with jobs in flight, and loses none; `tps status` and Prometheus see every replica.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { replicaChannel, type ReplicaChange } from '#operator/supervisor/replica-channel.ts';
import { isAlive } from '#operator/supervisor/process-stamp.ts';
import { readState, type ProcessReport } from '#operator/supervisor/state-file.ts';
import type { Snapshot } from '#operator/status/snapshot.ts';
import { tps } from '#devenv/cli.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { metricValue, settle, startStack, submit, type Stack } from '#devenv/stack.ts';

let server: NatsServerHandle;
let stack: Stack;
let offset: number;
/** The environment of `tps` commands aimed at this stack. */
let env: Record<string, string>;
const nowhere = mkdtempSync(path.join(os.tmpdir(), 'tps-no-supervisor-'));

beforeAll(async () => {
  server = await startNatsServer();
  stack = await startStack(server.url, {
    WORKERS_FAST: '3', WORKER_SLOTS: '4', WORK_SCALE: '10', HEARTBEAT_MS: '200ms', AUTOSCALER_ENABLED: 'false',
    // Far past every deadline below: a job may only come back from a clean drain, never from a
    // redelivery after the ack wait of a replica that was killed.
    ACK_WAIT_MS: '60s',
    TPS_MONITORING: 'auto', TPS_SCRAPE_INTERVAL: '1s',
  });
  offset = Number(new URL(stack.url('ingress')).port) - 8080;
  env = { NATS_URL: server.url, TPS_STATE_DIR: stack.stateDir, HEARTBEAT_MS: '200ms' };
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await server?.dispose();
  rmSync(nowhere, { recursive: true, force: true });
}, 60_000);

const fastProcesses = (): ProcessReport[] => readState(stack.stateDir)?.processes.filter((p) => /^worker-fast(-\d+)?$/.test(p.name)) ?? [];
const urlOf = (name: string) => fastProcesses().find((p) => p.name === name)?.url ?? `(no ${name})`;
const hostPort = (url: string) => url.replace('http://', '');
const processed = (url: string) => metricValue(url, /^tps_jobs_processed_total\{.*pool="fast".*outcome="success"/);

function targetsFile(job: string): string[] {
  const groups = JSON.parse(readFileSync(path.join(stack.stateDir, 'prometheus', 'targets', `${job}.json`), 'utf8')) as Array<{ targets: string[] }>;
  return groups.flatMap((g) => g.targets);
}

/** Waits until Prometheus scrapes exactly these instances of the job, each up. */
async function prometheusScrapes(job: string, instances: string[]): Promise<void> {
  type Targets = { data: { activeTargets: Array<{ labels: Record<string, string>; health: string }> } };
  let seen: string[] = [];
  await waitFor(async () => {
    const res = await fetch(`${stack.url('prometheus')}/api/v1/targets?state=active`).catch(() => undefined);
    if (!res?.ok) return undefined;
    const active = ((await res.json()) as Targets).data.activeTargets.filter((t) => t.labels.job === job);
    seen = active.map((t) => `${t.labels.instance} ${t.health}`).sort();
    return JSON.stringify(seen) === JSON.stringify(instances.map((i) => `${i} up`).sort()) ? true : undefined;
  }, 30_000, () => `Prometheus to scrape ${instances.join(', ')} (sees ${seen.join(', ') || 'none'})`);
}

it('WORKERS_FAST=3 starts three worker-fast processes that all pull from the one consumer, and status counts 3', async () => {
  const fast = fastProcesses();
  expect(fast.map((p) => p.name)).toEqual(['worker-fast', 'worker-fast-2', 'worker-fast-3']);
  expect(fast.map((p) => p.url)).toEqual([9464, 9472, 9473].map((port) => `http://127.0.0.1:${port + offset}`));
  expect(new Set(fast.map((p) => p.pid)).size).toBe(3);
  const consumers = await (await jetstreamManager(stack.nc)).consumers.list('JOBS_FAST').next();
  expect(consumers.map((c) => c.name)).toEqual(['workers-fast']);

  const ids = await submit(stack, 'fast.lookup', 60);
  expect(ids).toHaveLength(60);
  await settle(stack, ids, 30_000);
  const done = await Promise.all(fast.map((p) => processed(p.url ?? '')));
  console.info(`60 fast.lookup jobs done per replica: ${done.join(', ')}`);
  expect(done.every((n) => n > 0), `jobs done per replica: ${done.join(', ')}`).toBe(true);
  expect(done.reduce((a, b) => a + b, 0)).toBe(60);

  const status = await tps(['status', '--json', '--interval', '0.5'], env);
  expect(status.code).toBe(0);
  const snapshot = JSON.parse(status.stdout) as Snapshot;
  expect(snapshot.pools.find((p) => p.pool === 'fast')?.workers).toMatchObject({ instances: 3, slots: 12 });
  expect(snapshot.roles.filter((r) => r.role.startsWith('worker-fast')).map((r) => [r.role, r.up]))
    .toEqual([['worker-fast', true], ['worker-fast-2', true], ['worker-fast-3', true]]);
  const text = await tps(['status', '--no-color', '--interval', '0.5'], env);
  expect(text.stdout).toMatch(/Workers busy\s+✓ \d+\/12 slots \(\d+%\), 3 workers\s/);

  expect(targetsFile('worker-fast')).toEqual(fast.map((p) => hostPort(p.url ?? '')));
  await prometheusScrapes('worker-fast', fast.map((p) => hostPort(p.url ?? '')));
}, 90_000);

it('scales in live with jobs in flight and loses none, then out again; Prometheus follows without a reload', async () => {
  const victims = fastProcesses().filter((p) => p.name !== 'worker-fast');
  const submitting = submit(stack, 'fast.lookup', 150);
  // Both replicas about to be stopped hold jobs when the command runs.
  const busy = await waitFor(async () => {
    const slots = await Promise.all(victims.map((v) => metricValue(v.url ?? '', /^tps_worker_busy\{pool="fast"\}/)));
    return slots.every((b) => b > 0) ? slots : undefined;
  }, 15_000, () => 'worker-fast-2 and worker-fast-3 to be busy');
  const scaledIn = await tps(['scale', 'fast', '--replicas', '1', '--json'], env, { timeoutMs: 60_000 });
  console.info(`scale-in: busy slots of worker-fast-2, worker-fast-3 just before: ${busy.join(', ')}`);
  expect(scaledIn.stderr).toBe('');
  expect(scaledIn.code).toBe(0);
  const change = JSON.parse(scaledIn.stdout) as ReplicaChange;
  expect(change).toMatchObject({ pool: 'fast', previous: 3, replicas: 1, started: [] });
  expect(change.stopped).toEqual([{ name: 'worker-fast-3', exit: 'exited with code 0' }, { name: 'worker-fast-2', exit: 'exited with code 0' }]);
  for (const v of victims) {
    expect(isAlive(v.pid ?? 0)).toBe(false);
    expect(stack.log(v.name)).toMatch(/"msg":"stopped"/);
  }
  expect(fastProcesses().map((p) => p.name)).toEqual(['worker-fast']);
  expect(targetsFile('worker-fast')).toEqual([`127.0.0.1:${9464 + offset}`]);
  const views = await settle(stack, await submitting, 30_000);
  expect([...views.values()].filter((v) => v.status !== 'completed')).toEqual([]);
  await prometheusScrapes('worker-fast', [`127.0.0.1:${9464 + offset}`]);

  const scaledOut = await tps(['scale', 'fast', '--replicas', '2'], env, { timeoutMs: 60_000 });
  expect(scaledOut.code).toBe(0);
  expect(scaledOut.stdout).toContain(`fast pool: 2 worker processes (was 1).\n  started worker-fast-2 (http://127.0.0.1:${9472 + offset})`);
  const added = fastProcesses().find((p) => p.name === 'worker-fast-2');
  expect(added?.pid).not.toBe(victims.find((v) => v.name === 'worker-fast-2')?.pid);
  expect(targetsFile('worker-fast')).toEqual([9464, 9472].map((port) => `127.0.0.1:${port + offset}`));
  await prometheusScrapes('worker-fast', [9464, 9472].map((port) => `127.0.0.1:${port + offset}`));
  await settle(stack, await submit(stack, 'fast.lookup', 40), 30_000);
  expect(await processed(urlOf('worker-fast-2'))).toBeGreaterThan(0);
  const slots = await tps(['scale', 'fast', '6'], env);
  expect(slots.stdout).toMatch(/Applied by 2 of 2 worker processes \((worker-fast, worker-fast-2|worker-fast-2, worker-fast)\)/);
}, 120_000);

it('refuses bad input and a missing supervisor with a clear message and a non-zero exit', async () => {
  const usage: Array<[string[], RegExp]> = [
    [['scale', 'fast', '--replicas', '0'], /replicas of the fast pool must be a whole number from 1 to 8, got "0"/],
    [['scale', 'fast', '--replicas', '9'], /from 1 to 8, got "9"/],
    [['scale', 'fast', '--replicas', 'two'], /from 1 to 8, got "two"/],
    [['scale', 'medium', '--replicas', '2'], /unknown pool "medium"; pools are fast, slow/],
    [['scale', 'fast', '4', '--replicas', '2'], /either slots or --replicas, not both/],
  ];
  for (const [args, message] of usage) {
    const r = await tps(args, env);
    expect([r.code, r.stderr], args.join(' ')).toEqual([2, expect.stringMatching(message)]);
  }
  // The supervisor checks for itself too: the socket is open to other clients than the command.
  const channel = replicaChannel(stack.stateDir, 10_000);
  await expect(channel.scale({ pool: 'fast', replicas: 12 })).rejects.toThrow(/replicas must be a whole number from 1 to 8, got 12/);
  await expect(channel.scale({ pool: 'medium', replicas: 2 })).rejects.toThrow(/unknown pool "medium"/);

  // NATS answers, but no supervisor runs for this state folder (NATS_URL also names the stack, so
  // bin/tps goes straight to the command).
  const none = await tps(['scale', 'fast', '--replicas', '2'], { NATS_URL: server.url, TPS_STATE_DIR: nowhere });
  expect(none.code).toBe(1);
  expect(none.stderr).toMatch(/no native supervisor is running here .*Start TPS Lab natively with `make up WORKERS_FAST=2`/);
  const up = await tps(['up'], { TPS_STATE_DIR: nowhere, WORKERS_FAST: '0', WORKERS_SLOW: 'lots' });
  expect(up.code).toBe(1);
  expect(up.stderr).toMatch(/WORKERS_FAST="0": expected a number of worker processes from 1 to 8/);
  expect(up.stderr).toMatch(/WORKERS_SLOW="lots": expected a number of worker processes from 1 to 8/);
});
