// Lab 3.7 (failure recovery) against a stack whose supervisor runs its own nats-server and
// Prometheus, as `make up` does, through the real `tps lab`: doing nothing fails every failure's
// check with its reason; `solve` crashes a worker, stops NATS, Prometheus and the autoscaler
// through the same chaos faults a learner uses, recovers each with the handbook's lever, and
// `check` passes; nothing accepted is lost on the way.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tps } from '#devenv/cli.ts';
import { unusedPort } from '#devenv/ports.ts';
import { startStack, type Stack } from '#devenv/stack.ts';
import { quickAutoscaler, untilPassed } from '#devenv/lab-runs.ts';

let stack: Stack;
let env: Record<string, string>;
const lab = (...args: string[]) => tps(['lab', ...args], env);

beforeAll(async () => {
  // Nothing answers at this URL, so the supervisor starts its own nats-server there (nats_down needs that).
  const natsUrl = `nats://127.0.0.1:${await unusedPort()}`;
  stack = await startStack(natsUrl, { ...quickAutoscaler, LOG_LEVEL: 'warn', TPS_MONITORING: 'auto', TPS_SCRAPE_INTERVAL: '1s' });
  env = { NATS_URL: natsUrl, TPS_STATE_DIR: stack.stateDir, TPS_PROMETHEUS_URL: stack.url('prometheus') };
}, 120_000);
afterAll(async () => {
  await tps(['chaos', 'reset'], env).catch(() => undefined);
  await stack?.stop();
});

it('fails with each failure\'s reason when nothing was done, passes once all four were caused, recovered and verified, and loses no job', async () => {
  const start = await lab('start', '3.7');
  expect(start.code, start.stderr).toBe(0);
  expect(start.stdout).toContain('Objective: Cause the four kinds of failure');
  const idle = await lab('check', '3.7');
  expect(idle.code).toBe(1);
  expect(idle.stdout).toMatch(/FAIL {2}jidoka-restarted .*worker-fast has run since \d\d:\d\d:\d\d, before the lab started/);
  expect(idle.stdout).toMatch(/FAIL {2}kanban-outage .*tps_jobs_rejected_total\{"reason":"broker_unavailable"\} rose by 0/);
  expect(idle.stdout).toMatch(/FAIL {2}andon-verified .*Prometheus has run since \d\d:\d\d:\d\d, before the lab started/);
  expect(idle.stdout).toMatch(/FAIL {2}heijunka-verified .*waits for heijunka-restarted first/);
  expect(idle.stdout).toMatch(/not passed, score 0 %/);
  expect((await lab('answer', '3.7', 'heijunka-alert=TpsWorkersSaturated')).code).toBe(0);
  expect((await lab('check', '3.7')).stdout).toMatch(/FAIL {2}heijunka-alert .*heijunka-alert=TpsWorkersSaturated is not it/);

  const solved = await tps(['lab', 'solve', '3.7'], env, { timeoutMs: 400_000 });
  expect(solved.code, solved.stderr + solved.stdout).toBe(0);
  expect(solved.stdout).toContain('set nats_down on nats');
  expect(solved.stdout).toContain('kanban-verified holds');
  const passed = await untilPassed(['lab', 'check', '3.7'], env, 60_000);
  expect(passed).toMatch(/PASSED, score 100 %/);
  expect(passed).toMatch(/pass {2}andon-verified .*Prometheus started \d\d:\d\d:\d\d, \d+ targets up and fresh/);
  expect(passed).toMatch(/pass {2}jidoka-restarted .*worker-fast started at \d\d:\d\d:\d\d, after the lab/);
  // Every fault the solve set is over: the system is whole again.
  expect((await tps(['chaos', 'list'], env)).stdout).not.toMatch(/nats_down|monitoring_down|autoscaler_down/);
  expect((await lab('stop', '3.7')).code).toBe(0);
}, 480_000);
