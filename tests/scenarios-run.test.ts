// `tps chaos run` against real processes: a short scenario sets its faults at their offsets (the
// targets' tps_chaos_fault_active gauges say so), clears them at the end, and reports the recovery
// time; Ctrl-C leaves no fault behind; an unsteady system is refused. The level-3 exam's six hours
// run in virtual time against a real NATS.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openChaosStore } from '#platform/chaos/store.ts';
import { virtualClock } from '#chaos/runner/clock.ts';
import { runTimeline } from '#chaos/runner/execute.ts';
import { clock } from '#chaos/runner/format.ts';
import { resolveScenario } from '#chaos/runner/load.ts';
import { planTimeline } from '#chaos/runner/plan.ts';
import { openChaosControl } from '#chaos/control-plane.ts';
import { loadConfig } from '#platform/config.ts';
import type { NatsConnection } from '@nats-io/transport-node';
import { createLogger } from '#platform/logger.ts';
import { chaosRun } from '#devenv/chaos-run.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { provisioned } from '#devenv/roles.ts';
import { metricValue, startStack, type Stack } from '#devenv/stack.ts';

let server: NatsServerHandle;
let stack: Stack;
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  server = await startNatsServer();
  stack = await startStack(server.url);
  env = { NATS_URL: server.url, TPS_STATE_DIR: stack.stateDir };
  dir = mkdtempSync(path.join(os.tmpdir(), 'tps-scenarios-'));
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await server?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Role = 'service-a' | 'service-b' | 'service-c';
const gauge = (target: Role, fault: string) => metricValue(stack.url(target), new RegExp(`^tps_chaos_fault_active\\{target="${target}",fault="${fault}"\\} `)).catch(() => -1);

function scenarioFile(name: string, steps: string): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\ndescription: a test timeline\nreference: tests\nsteps:\n${steps}`);
  return file;
}

it('sets each fault at its offset, clears everything at the end, and reports the recovery time', async () => {
  const file = scenarioFile('two-faults', [
    '  - at: 0s\n    set: { target: service-c, fault: latency, params: { ms: 50 }, duration: 20s }',
    '  - at: 6s\n    set: { target: service-b, fault: error_rate, params: { ratio: 0.5 }, duration: 14s }',
    '  - at: 8s\n    observe: both faults in force',
  ].join('\n'));
  // When each fault reached the store (a KV watch: exact, whatever the machine's load).
  const appeared = new Map<string, number>();
  const unwatch = await stack.chaos.watch((faults) => { for (const f of faults) if (!appeared.has(f.target)) appeared.set(f.target, Date.now()); });
  const run = chaosRun([file, '--speed', '2', '--interval', '0.5', '--recovery-deadline', '30s'], env);
  let exited = false;
  void run.exited.finally(() => { exited = true; });
  try {
    // Both targets apply their fault while the run lasts (their tps_chaos_fault_active gauges).
    await waitFor(async () => {
      if (exited) throw new Error(`the run ended before both faults were seen in force:\n${run.output()}`);
      return (await gauge('service-c', 'latency')) === 1 && (await gauge('service-b', 'error_rate')) === 1 ? true : undefined;
    }, 30_000, () => `both faults in force; output so far:\n${run.output()}`);
  } finally {
    const { code, stdout, stderr } = await run.exited;
    unwatch();
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/Steady state: every role answers, nothing HIGH or CRITICAL\./);
    expect(stdout).toMatch(/\[00:00 \| 00:00\] set service-c latency ms=50 \(until 00:10\)/);
    expect(stdout).toMatch(/\[00:03 \| 00:06\] set service-b error_rate ratio=0\.5 \(until 00:10\)/);
    expect(stdout).toMatch(/\[00:04 \| 00:08\] observe: both faults in force/);
    expect(stdout).toMatch(/\[00:10 \| 00:20\] clear service-c latency \(its duration is over\)/);
    expect(stdout).toMatch(/\[00:10 \| 00:20\] scenario two-faults done; every fault it set is cleared\.\nWaiting for the steady state \(up to 30s\)\.\.\.\nSteady again \d+ s after the last fault cleared\./);
  }
  // Offsets halved by --speed 2: service-b's fault was set 3 s after service-c's.
  const gap = (appeared.get('service-b') ?? 0) - (appeared.get('service-c') ?? 0);
  expect(gap).toBeGreaterThan(2_700);
  expect(gap).toBeLessThan(5_000);
  expect(await stack.chaos.list()).toEqual([]);
  await waitFor(async () => ((await gauge('service-c', 'latency')) === 0 && (await gauge('service-b', 'error_rate')) === 0 ? true : undefined), 10_000, () => 'the targets to drop the faults');
}, 60_000);

/** A scenario that sets latency on service-a at 0 s and service-b at 1 s (then `later` steps), run until both are in force. */
async function runWithTwoFaults(name: string, later: string[]) {
  const file = scenarioFile(name, [
    '  - at: 0s\n    set: { target: service-a, fault: latency, params: { ms: 20 }, duration: 1m }',
    '  - at: 1s\n    set: { target: service-b, fault: latency, params: { ms: 20 }, duration: 1m }',
    ...later,
  ].join('\n'));
  const run = chaosRun([file, '--no-steady-check'], env);
  await waitFor(async () => ((await gauge('service-a', 'latency')) === 1 && (await gauge('service-b', 'latency')) === 1 ? true : undefined), 15_000, () => `both faults in force; output so far:\n${run.output()}`);
  return run;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  it(`leaves no fault behind when interrupted with ${signal}`, async () => {
    const run = await runWithTwoFaults(`interrupted-${signal.toLowerCase()}`, ['  - at: 50s\n    observe: never reached']);
    run.child.kill(signal);
    const { code, stdout } = await run.exited;
    expect(code).toBe(signal === 'SIGINT' ? 130 : 143);
    expect(stdout).toMatch(new RegExp(`${signal}: stopping the scenario and clearing what it set`));
    expect(stdout).toMatch(/stopped: cleared service-a latency, service-b latency\nInterrupted: the scenario left no fault behind/);
    expect(stdout).not.toMatch(/never reached/);
    expect(await stack.chaos.list()).toEqual([]);
    await waitFor(async () => ((await gauge('service-a', 'latency')) === 0 && (await gauge('service-b', 'latency')) === 0 ? true : undefined), 10_000, () => 'the targets to drop the faults');
  }, 30_000);
}

it('stops as on SIGTERM when the reader of its output goes away (| head): no fault left, no stack trace', async () => {
  const run = await runWithTwoFaults('reader-gone', ['  - at: 3s\n    observe: written after the reader has gone', '  - at: 50s\n    observe: never reached']);
  // As `| head` does once it has its lines: the read end closes, and the next line written fails (EPIPE).
  run.child.stdout?.destroy();
  const { code, stderr } = await run.exited;
  expect(stderr).toBe('');
  expect(code).toBe(143);
  expect(await stack.chaos.list()).toEqual([]);
  await waitFor(async () => ((await gauge('service-a', 'latency')) === 0 && (await gauge('service-b', 'latency')) === 0 ? true : undefined), 10_000, () => 'the targets to drop the faults');
}, 30_000);

it('refuses to start when the system is not steady, and sets nothing', async () => {
  const { code, stdout } = await chaosRun(['cascade-3-1', '--speed', '60', '--interval', '0.2', '--targets', `ingress=${stack.url('ingress')},service-x=http://127.0.0.1:1`], env).exited;
  expect(code).toBe(3);
  expect(stdout).toMatch(/Not starting: the system is not in a steady state:\n {2}- service-x does not answer \(.+\)\nFix these first .*--no-steady-check\./);
  expect(await stack.chaos.list()).toEqual([]);
});

it('prints the plan on --dry-run and lists the scenarios, changing nothing', async () => {
  const dry = await chaosRun(['level3-exam', '--speed', '6', '--dry-run'], env).exited;
  expect(dry.code).toBe(0);
  expect(dry.stdout).toMatch(/Length: 1h at --speed 6\./);
  expect(dry.stdout).toMatch(/\[10:00 \| 1:00:00\] == 3 PM: downstream service becomes slow\n\[10:00 \| 1:00:00\] set service-a latency ms=800 jitter=300 \(until 17:30\)/);
  expect(dry.stdout).toMatch(/Dry run: nothing was changed\./);
  expect(await stack.chaos.list()).toEqual([]);
  const list = await chaosRun(['--list'], env).exited;
  expect(list.stdout).toMatch(/^SCENARIO +LENGTH +DESCRIPTION\n/);
  expect(list.stdout).toMatch(/\nlevel3-exam +6h +The level-3 exam day/);
  expect(list.stdout).toMatch(/\ncascade-3-1 +3m30s +service-c latency 5000 ms/);
  const usage = await chaosRun(['cascade-3-1', '--speed', '0'], env).exited;
  expect([usage.code, usage.stderr]).toEqual([2, expect.stringMatching(/--speed must be more than 0 \(got "0"\)/)]);
  const unknown = await chaosRun(['no-such'], env).exited;
  expect([unknown.code, unknown.stderr.trim()]).toEqual([1, expect.stringMatching(/^tps: no scenario named "no-such"; shipped scenarios: breaker-open,/)]);
});

it('runs the six hours of the level-3 exam in virtual time: one fault per hour, none left after', async () => {
  const own = await startNatsServer();
  const nc = await provisioned(own.url);
  try {
    const control = chaosControl(nc);
    const time = virtualClock();
    const seen: string[] = [];
    const lines: string[] = [];
    const result = await runTimeline(planTimeline(resolveScenario('level3-exam'), 1), {
      control, clock: time, signal: new AbortController().signal, say: (l) => lines.push(l), by: 'test',
      afterEvent: async (e) => { if (e.kind === 'set' || e.kind === 'clear') seen.push(`${clock(time.now())} ${(await control.list()).map((f) => `${f.target} ${f.fault}`).join(', ') || '-'}`); },
    });
    expect(seen).toEqual([
      '1:00:00 service-a latency', '1:45:00 -', '2:00:00 worker-fast crash', '2:01:00 -', '3:00:00 service-c latency', '3:45:00 -',
      '4:00:00 worker-slow memory_leak', '4:45:00 -', '5:00:00 ingress bandwidth', '5:45:00 -',
    ]);
    expect(result).toEqual({ interrupted: false, leftovers: [], lastClearAt: 5.75 * 3_600_000 });
    expect(time.now()).toBe(6 * 3_600_000);
    expect(lines.at(-1)).toBe('[6:00:00] observe: every panel back to the 2 PM baseline; write up each failure: how you detected it, the root cause, the fix, how you verified it, how to prevent it');
    expect(await (await openChaosStore(nc)).list()).toEqual([]);
  } finally {
    await nc.close();
    await own.dispose();
  }
});

/** The operators' control plane over the given connection (process faults; no supervisor here). */
function chaosControl(nc: NatsConnection) {
  const config = loadConfig();
  return openChaosControl({ config, logger: createLogger('test', { ...config, log: { level: 'warn' } }), nc });
}
