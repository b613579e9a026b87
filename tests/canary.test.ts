// Canary deployment through the real `tps canary` against a real stack: the supervisor runs the
// canary's process on its own version, the caller (service-a) splits its calls to service-b by the
// weight and counts them by track and version, a canary that breaks its SLO is rolled back by the
// caller on its own with no accepted job lost, and a good one is promoted step by step until the
// stable process runs the new version. Bad input is refused before anything changes.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tps } from '#devenv/cli.ts';
import { startCliStack, type CliStack } from '#devenv/cli-stack.ts';
import { waitFor } from '#devenv/nats-server.ts';
import type { Stack } from '#devenv/stack.ts';
import type { CanaryView } from '#operator/canary/view.ts';
import type { CanaryValue } from '#platform/canary.ts';

let run: CliStack;
let stack: Stack;
let env: Record<string, string>;
const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-canary-'));

beforeAll(async () => {
  run = await startCliStack({ LOG_LEVEL: 'warn' });
  ({ stack, env } = run);
}, 120_000);
afterAll(async () => {
  await run?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const canary = (...args: string[]) => tps(['canary', ...args], env, { timeoutMs: 120_000 });
const views = async () => JSON.parse((await canary('status', '--json')).stdout) as CanaryView[];
/** Lookups call service-a then service-b: every one is a call the canary route splits. */
const lookups = (seconds: number, ledger?: string) => tps(['load', '--rate', '40', '--duration', `${seconds}s`, '--mix', 'fast.lookup=1', '--url', stack.url('ingress'), ...(ledger ? ['--ledger', ledger] : [])], env, { timeoutMs: 60_000 });
const versionAt = async (url: string) => /tps_build_info\{[^}]*version="([^"]+)"/.exec(await (await fetch(`${url}/metrics`)).text())?.[1];

describe('tps canary', () => {
  it('refuses what it cannot do, with the reason', async () => {
    const notCanaried = await canary('start', 'service-a', '--version', 'v2');
    expect([notCanaried.code, notCanaried.stderr]).toEqual([2, expect.stringContaining('"service-a" has no canary; services with one: service-b, service-c')]);
    const noVersion = await canary('start', 'service-b');
    expect([noVersion.code, noVersion.stderr]).toEqual([2, expect.stringContaining('which version? e.g. tps canary start service-b --version v2')]);
    const badWeight = await canary('start', 'service-b', '--version', 'v2', '--weight', '0');
    expect(badWeight.code).toBe(2);
    const nothing = await canary('promote', 'service-b');
    expect([nothing.code, nothing.stderr]).toEqual([1, expect.stringContaining('no service-b canary: `tps canary start service-b --version <v>` first')]);
    const same = await canary('start', 'service-b', '--version', 'v1');
    expect([same.code, same.stderr]).toEqual([1, expect.stringContaining('service-b runs v1 already; a canary is a different version')]);
    expect((await canary('status')).stdout).toContain('No canary: `tps canary start service-b --version v2` starts one.');
  });

  it('rolls a canary that breaks its SLO back by itself, and no accepted job is lost', async () => {
    const started = await canary('start', 'service-b', '--version', 'v2', '--weight', '50', '--min-calls', '10');
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toContain('service-b canary v2 takes 50 % of the calls (stable: v1).');
    const canaryUrl = `http://127.0.0.1:${Number(new URL(stack.url('service-b')).port) + 100}`;
    expect(await versionAt(canaryUrl)).toBe('v2');
    expect(await versionAt(stack.url('service-b'))).toBe('v1');

    // A good canary so far: both tracks take calls, neither fails.
    expect((await lookups(2)).code).toBe(0);
    const [healthy] = await views();
    expect(healthy?.tracks.map((t) => [t.track, t.version])).toEqual([['stable', 'v1'], ['canary', 'v2']]);
    for (const t of healthy?.tracks ?? []) {
      expect(t.calls).toBeGreaterThan(10);
      expect(t.failed).toBe(0);
      expect(t.memoryMb).toBeGreaterThan(20);
    }
    expect(healthy?.tracks[1]?.breaker).toBe('closed');
    expect((await tps(['status'], env)).stdout).toMatch(/^Canary: service-b v2 takes 50 % of the calls; .*canary v2 [\d.]+\/s, 0% failed/m);

    // The new version turns bad: its own chaos target fails it, the stable version is untouched.
    expect((await tps(['chaos', 'set', 'service-b-canary', 'error_rate', 'ratio=1'], env)).code).toBe(0);
    const ledger = path.join(dir, 'bad-canary.jsonl');
    expect((await lookups(3, ledger)).code).toBe(0);
    const rolled = await waitFor(async () => {
      const [v] = await views();
      return v?.value.state === 'rolled-back' ? v : undefined;
    }, 20_000, () => 'the caller to roll the canary back');
    expect(rolled.value).toMatchObject({ weight: 0, auto: true, by: 'service-a (automatic rollback)' } satisfies Partial<CanaryValue>);
    // The window holds the good calls before the fault too: the share passes 5 % within a few bad
    // ones. The stable version took half the calls of the same window, none failed.
    expect(rolled.value.reason).toMatch(/^its error rate was [\d.]+ % over its last \d+ calls, the stable version's 0\.0 % over its last \d+ \(the limit: 5 % above the stable version's\)$/);
    const audit = await tps(['audit', ledger, '--wait', '60s', '--json', '--service-c', stack.url('service-c')], env, { timeoutMs: 90_000 });
    expect(JSON.parse(audit.stdout)).toMatchObject({ lost: 0, deadLettered: 0, ok: true });
    expect((await canary('status')).stdout).toMatch(/service-b: canary v2 against stable v1, ROLLED BACK automatically: its error rate/);

    const stopped = await canary('rollback', 'service-b');
    expect(stopped.code, stopped.stderr).toBe(0);
    await expect(fetch(`${canaryUrl}/metrics`)).rejects.toThrow();
    await tps(['chaos', 'clear', 'service-b-canary'], env);
  }, 180_000);

  it('promotes a good canary 10 -> 50 -> 100 %, then the stable process runs the new version', async () => {
    expect((await canary('start', 'service-b', '--version', 'v3')).code).toBe(0);
    expect((await canary('promote', 'service-b')).stdout).toContain('service-b canary v3 takes 50 % of the calls');
    expect((await canary('promote', 'service-b')).stdout).toContain('service-b canary v3 takes 100 % of the calls');
    const ledger = path.join(dir, 'promote.jsonl');
    const load = lookups(6, ledger);
    const done = await canary('promote', 'service-b');
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain('service-b runs v3 now: the stable process restarted on it and the canary stopped.');
    expect((await load).code).toBe(0);
    expect(await versionAt(stack.url('service-b'))).toBe('v3');
    const audit = await tps(['audit', ledger, '--wait', '60s', '--json', '--service-c', stack.url('service-c')], env, { timeoutMs: 90_000 });
    expect(JSON.parse(audit.stdout)).toMatchObject({ lost: 0, deadLettered: 0, ok: true });
    const [promoted] = await views();
    expect(promoted?.value).toMatchObject({ state: 'promoted', version: 'v3', stable: 'v3', weight: 0 });
  }, 180_000);
});

describe('lab 3.6, deployment strategy', () => {
  const lab = (...args: string[]) => tps(['lab', ...args], env, { timeoutMs: args[0] === 'solve' ? 240_000 : 60_000 });
  it('fails doing nothing; passes a bad release rolled back and a good one rolled out, each graded by its own checks', async () => {
    const start = await lab('start', '3.6', '--choose', 'release=bad');
    expect(start.code, start.stderr).toBe(0);
    expect((await tps(['chaos', 'list'], env)).stdout).toMatch(/service-b-canary\s+error_rate/);
    const idle = await lab('check', '3.6');
    expect(idle.code).toBe(1);
    expect(idle.stdout).toMatch(/FAIL {2}canary .*events on tps\.events\.canary\.started \{"service":"service-b","weight":10\} since the lab started: 0/);
    expect(idle.stdout).toMatch(/FAIL {2}verdict .*no answer yet: tps lab answer 3\.6 verdict=<value>/);
    expect(idle.stdout).toMatch(/FAIL {2}rolled-back /);
    expect(idle.stdout).not.toMatch(/rolled-out/);

    const bad = await lab('solve', '3.6');
    expect(bad.code, bad.stderr + bad.stdout).toBe(0);
    expect(bad.stdout).toContain('tps canary start service-b --version v2: 10 % of the calls');
    expect(bad.stdout).toContain('tps canary rollback service-b: v2 rolled back (automatically, before)');
    const badGrade = await lab('check', '3.6');
    expect(badGrade.stdout).toMatch(/PASSED, score 100 %/);
    expect((await lab('stop', '3.6')).code).toBe(0);
    expect((await tps(['chaos', 'list'], env)).stdout).not.toMatch(/service-b-canary/);

    expect((await lab('start', '3.6', '--choose', 'release=good')).code).toBe(0);
    // The verdict of the other release is wrong here.
    expect((await lab('answer', '3.6', 'verdict=bad')).code).toBe(0);
    expect((await lab('check', '3.6')).stdout).toMatch(/FAIL {2}verdict .*verdict=bad is not it/);
    const good = await lab('solve', '3.6');
    expect(good.code, good.stderr + good.stdout).toBe(0);
    expect(good.stdout).toContain('tps canary promote service-b: v2 is the stable version');
    const goodGrade = await lab('check', '3.6');
    expect(goodGrade.stdout).toMatch(/pass {2}rolled-out /);
    expect(goodGrade.stdout).toMatch(/PASSED, score 100 %/);
    expect((await lab('stop', '3.6')).code).toBe(0);
    expect(await versionAt(stack.url('service-b'))).toBe('v2');
  }, 480_000);
});
