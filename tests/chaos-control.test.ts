// `tps chaos` against a real nats-server and real roles (no supervisor here): bad input is refused
// with the catalogue's message and exit 2; faults round-trip through the tps_chaos bucket, are
// applied by their target, expire by themselves; ingress faults act at the NATS publish.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { faultCatalogue, faultNames } from '#platform/chaos/catalogue.ts';
import { paramsText, targetsOf } from '#chaos/describe.ts';
import { openChaosStore, type ChaosStore } from '#platform/chaos/store.ts';
import { projectRoot } from '#platform/paths.ts';
import type { RoleName } from '#platform/roles.ts';
import { tps } from '#devenv/cli.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { postJob, provisioned, startTestRole, testConfig } from '#devenv/roles.ts';
import { metricValue } from '#devenv/stack.ts';

let server: NatsServerHandle;
let nc: NatsConnection;
let store: ChaosStore;
let dir: string;
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
  server = await startNatsServer();
  nc = await provisioned(server.url);
  store = await openChaosStore(nc);
  dir = mkdtempSync(path.join(os.tmpdir(), 'tps-chaos-'));
});
afterEach(async () => { await store.reset('test'); });
afterAll(async () => {
  while (stops.length) await stops.pop()?.();
  await nc?.close();
  await server?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const chaos = (...args: string[]) => tps(['chaos', ...args], { NATS_URL: server.url, TPS_STATE_DIR: dir });
const gauge = (target: string, fault: string) => new RegExp(`^tps_chaos_fault_active\\{target="${target}",fault="${fault}"\\}`);
async function waitGauge(url: string, target: string, fault: string, value: number): Promise<void> {
  await waitFor(async () => ((await metricValue(url, gauge(target, fault))) === value ? true : undefined), 10_000, () => `${target} ${fault} gauge to be ${value}`);
}
async function role(name: RoleName): Promise<string> {
  const r = await startTestRole(name, testConfig(server.url));
  stops.push(r.stop);
  return `http://127.0.0.1:${r.result}`;
}

it('refuses invalid input with the catalogue\'s message and exit 2', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['set', 'service-z', 'latency', 'ms=10'], /unknown target "service-z"; targets are: ingress, /],
    [['set', 'service-a', 'explode'], /unknown fault "explode"; faults are: latency, /],
    [['set', 'service-c', 'latency', 'ms=999999'], /latency: ms must be at most 120000 \(got 999999\)/],
    [['set', 'service-a', 'error_rate', 'ratio=-0.5'], /error_rate: ratio must be at least 0 \(got -0.5\)/],
    // One reason per parameter, the one that applies (not "at least 0; at least 1").
    [['set', 'service-c', 'latency', 'ms=-5'], /latency: ms must be at least 1 \(got -5\) \(`tps chaos faults`/],
    [['set', 'nats', 'latency', 'ms=10'], /latency is a process fault; nats takes only system faults \(nats_down\)/],
    [['set', 'service-a', 'nats_down'], /nats_down applies to nats, not service-a/],
    [['set', 'service-a', 'hang', '--duration', 'soon'], /bad duration "soon"; write e.g. 90s, 5m or 1h/],
    [['set', 'service-a', 'hang', '--duration', '3h'], /duration must be between 1 s and 2 h/],
    [['clear', 'nowhere'], /unknown target "nowhere"/],
    [['explode'], /unknown subcommand "explode"/],
  ];
  // Two at a time: a burst of CLI processes would starve the other test files on 2 cores.
  const results = [];
  for (let i = 0; i < cases.length; i += 2) results.push(...await Promise.all(cases.slice(i, i + 2).map(([args]) => chaos(...args))));
  results.forEach((r, i) => {
    expect(r.stderr, cases[i]?.[0].join(' ')).toMatch(cases[i]?.[1] ?? /x/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(2);
  });
  expect(await store.list()).toEqual([]);
});

it('sets, lists, clears and resets faults, with a clear confirmation', async () => {
  const set = await chaos('set', 'service-a', 'error_rate', 'ratio=1');
  expect(set.code).toBe(0);
  expect(set.stdout.trim()).toMatch(/^service-a: error_rate ratio=1 status=500 on until \d\d:\d\d:\d\d \(10m\)$/);
  expect((await chaos('set', 'service-c', 'latency', 'ms=5000', '--duration', '5m')).stdout).toMatch(/service-c: latency ms=5000 jitter=0 ratio=1 on until .* \(5m\)/);
  // A bare number is seconds where a person types it.
  expect((await chaos('set', 'service-b', 'latency', 'ms=10', '--duration', '90')).stdout).toMatch(/service-b: latency ms=10 jitter=0 ratio=1 on until .* \(1m30s\)/);
  const list = await chaos('list');
  expect(list.stdout).toMatch(/service-a\s+error_rate\s+ratio=1 status=500\s+\d\d:\d\d:\d\d\s+\d+m\d*s?\s+tps \(/);
  expect(list.stdout).toMatch(/service-c\s+latency\s+ms=5000 jitter=0/);
  expect((await chaos('clear', 'service-a')).stdout).toMatch(/cleared service-a: error_rate ratio=1 status=500/);
  expect((await chaos('list')).stdout).not.toMatch(/service-a/);
  expect((await chaos('clear', 'service-a')).stdout).toMatch(/no fault active on service-a/);
  const reset = await chaos('reset');
  expect(reset.stdout).toMatch(/cleared service-c: latency/);
  expect((await chaos('list')).stdout.trim()).toBe('no chaos faults active');
});

it('says a one-shot fault acts once, when set, and lists it with that moment', async () => {
  // "worker-fast: crash on until …" read as if the worker would crash again for 10 minutes.
  const set = await chaos('set', 'worker-fast', 'crash');
  expect(set.code).toBe(0);
  expect(set.stdout.trim()).toMatch(/^worker-fast: crash once, now \(its restart is left alone; listed until \d\d:\d\d:\d\d \(10m\)\)$/);
  expect((await chaos('list')).stdout).toMatch(/worker-fast\s+crash \(once, at \d\d:\d\d:\d\d\)\s+-\s+\d\d:\d\d:\d\d/);
  expect((await chaos('reset')).stdout).toMatch(/cleared worker-fast: crash/);
});

it('lists the catalogue with limits, defaults and targets', async () => {
  const r = await chaos('faults');
  expect(r.code).toBe(0);
  for (const name of ['latency', 'error_rate', 'hang', 'cpu_burn', 'memory_leak', 'bandwidth', 'crash', 'nats_down', 'monitoring_down', 'autoscaler_down']) expect(r.stdout).toMatch(new RegExp(`^${name} \\((process|system)\\)$`, 'm'));
  expect(r.stdout).toMatch(/params: {2}ms 1\.\.120000 \(required\), jitter 0\.\.60000 \(default 0\)/);
  expect(r.stdout).toMatch(/targets: prometheus, grafana/);
});

it('refuses system faults when TPS Lab does not run natively here', async () => {
  const r = await chaos('set', 'nats', 'nats_down', '--duration', '30s');
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/TPS Lab is not running natively here \(no supervisor answers at .*supervisor\.sock\), so nats_down cannot be carried out/);
});

it('a fault set by the CLI is applied by its target, cleared by the CLI, and an expired one goes by itself', async () => {
  const base = await role('service-a');
  expect((await chaos('set', 'service-a', 'error_rate', 'ratio=1', 'status=503')).code).toBe(0);
  await waitGauge(base, 'service-a', 'error_rate', 1);
  const refused = await fetch(`${base}/work`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jobId: 'x', type: 'fast.lookup' }) });
  expect(refused.status).toBe(503);
  expect(await refused.json()).toMatchObject({ code: 'FAULT_INJECTED' });
  expect((await chaos('clear', 'service-a', 'error_rate')).code).toBe(0);
  await waitGauge(base, 'service-a', 'error_rate', 0);

  const started = Date.now();
  expect((await chaos('set', 'service-a', 'latency', 'ms=50', '--duration', '1s')).code).toBe(0);
  await waitGauge(base, 'service-a', 'latency', 1);
  await waitGauge(base, 'service-a', 'latency', 0);
  expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  expect((await chaos('list')).stdout.trim()).toBe('no chaos faults active');
});

it('ingress faults act at the NATS publish: errors are broker errors, latency delays the accept', async () => {
  const base = await role('ingress');
  await store.set({ target: 'ingress', fault: 'error_rate', params: { ratio: 1 } }, 'test');
  await waitGauge(base, 'ingress', 'error_rate', 1);
  const failed = await postJob(base, { type: 'fast.echo' });
  expect(failed.status).toBe(503);
  expect(failed.json).toMatchObject({ code: 'BROKER_UNAVAILABLE' });
  expect(String(failed.json.message)).toMatch(/chaos: error_rate on ingress failed this publish to NATS/);
  expect(failed.headers.get('retry-after')).toBe('2');

  await store.clear('ingress', 'error_rate', 'test');
  await store.set({ target: 'ingress', fault: 'latency', params: { ms: 400 } }, 'test');
  await waitGauge(base, 'ingress', 'latency', 1);
  const started = performance.now();
  const slow = await postJob(base, { type: 'fast.echo' });
  expect(slow.status).toBe(202);
  expect(performance.now() - started).toBeGreaterThanOrEqual(390);
  // GET /jobs/:id does not publish: no delay there.
  const readStarted = performance.now();
  expect((await fetch(`${base}/jobs/${String(slow.json.id)}`)).status).toBe(200);
  expect(performance.now() - readStarted).toBeLessThan(300);
  await store.reset('test');
  await waitGauge(base, 'ingress', 'latency', 0);
});

it('docs/chaos.md shows the catalogue as the code has it', () => {
  const doc = readFileSync(path.join(projectRoot, 'docs', 'chaos.md'), 'utf8');
  for (const name of faultNames) {
    const def = faultCatalogue[name];
    const targets = def.kind === 'process' && !('targets' in def) ? 'any role' : targetsOf(name).join(', ');
    expect(doc).toContain(`| \`${name}\` | ${def.kind} | ${def.description} | ${paramsText(name)} | ${targets} |`);
  }
});
