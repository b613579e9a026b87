// The Level 3 exam, "Friday before a holiday weekend", against a real native stack through the real
// `tps exam 3`, its day compressed 120 times (an exam hour in 30 s, the day in 3 min: the last failure's hour must leave a loaded CI time to fix and verify it): the proctor
// process brings the five failures at their times under twice the normal load and keeps each in
// force (a fault the candidate clears comes back); doing nothing fails every part; `solve`
// (acknowledge, name the cause, fix with a lever while the failure stays, verify, prevent) then
// `check` passes; `stop` ends the proctor and clears the day's faults. The levers it uses are
// real: `tps scale`, `tps config set`, `tps restart`, `tps scale --replicas`.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tps } from '#devenv/cli.ts';
import { alertmanagerApi } from '#operator/alertmanager-api.ts';
import { startCliStack, type CliStack } from '#devenv/cli-stack.ts';
import { waitFor } from '#devenv/nats-server.ts';
import { metricValue, type Stack } from '#devenv/stack.ts';
import { readRun } from '#operator/labs/lab-state.ts';
import { openChaosStore } from '#platform/chaos/store.ts';
import { takeTurnOnTheMachine } from '#devenv/machine-lock.ts';

let run: CliStack;
let stack: Stack;
let env: Record<string, string>;
const exam = (...args: string[]) => tps(['exam', '3', ...args], env, { timeoutMs: args[0] === 'solve' ? 360_000 : 60_000 });
const proctorLog = () => { try { return readFileSync(readRun(stack.stateDir, 'exam-3')?.proctor?.log ?? '', 'utf8'); } catch { return '(no log)'; } };
const faultOn = (target: 'service-a' | 'service-b' | 'service-c', fault: string) =>
  metricValue(stack.url(target), new RegExp(`^tps_chaos_fault_active\\{target="${target}",fault="${fault}"\\} 1\\b`));

// Graded on throughput and latency under load: it has the machine to itself among such files.
takeTurnOnTheMachine();
beforeAll(async () => {
  // With Prometheus: the acks record the alerts firing, the report the SLO time lost per failure.
  run = await startCliStack({ LOG_LEVEL: 'warn', TPS_MONITORING: 'auto', TPS_SCRAPE_INTERVAL: '1s' });
  ({ stack, env } = run);
}, 120_000);
afterAll(async () => {
  // A failed test leaves the day running: its proctor goes with it.
  const proctor = run ? readRun(stack.stateDir, 'exam-3')?.proctor : undefined;
  if (proctor) { try { process.kill(proctor.pid, 'SIGTERM'); } catch { /* gone already */ } }
  await run?.stop();
});

it('refuses what it cannot take: an unknown exam, a speed past 720, a role that does not exist', async () => {
  const unknown = await tps(['exam', '4'], env);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain('which exam? The practical exams are: 2, 3 (tps exam 2, tps exam 3)');
  expect((await exam('start', '--speed', '721')).code).toBe(2);
  const restart = await tps(['restart', 'worker-medium'], env);
  expect(restart.code).toBe(2);
  expect(restart.stderr).toContain('unknown role "worker-medium"');
});

/** Nothing has begun yet (3 PM is 30 s away): an ack records nothing. Doing nothing fails every
 * part, each with its reason. */
async function expectNothingYet(): Promise<void> {
  const early = await tps(['exam', 'ack'], env);
  expect(early.stdout).toContain('Nothing new to acknowledge');
  const idle = await exam('check');
  expect(idle.code).toBe(1);
  expect(idle.stdout).toMatch(/FAIL {2}fix-database .*the database failure has not begun yet/);
  expect(idle.stdout).toMatch(/FAIL {2}cause-downstream .*no answer yet/);
  expect(idle.stdout).toMatch(/FAIL {2}verify-leak .*fix-leak has not held yet/);
  expect(idle.stdout).toMatch(/not passed, score 0 %/);
}

it('brings the day\'s failures, keeps them in force, fails doing nothing, and passes solved', async () => {
  // 120x: the day's 6 h in 3 min, an hour of it in 30 s. The last failure has only its hour
  // before the day's end clears it, and its fix must be verified in it: under a loaded CI every
  // verification held within 17 s of its failure (the model answer's fallbacks keep the slow line
  // up when a quarter of service-c's calls pass their timeout; without them it did not hold at
  // 7 PM, even at 90x).
  const start = await exam('start', '--speed', '120', '--choose', 'crash=worker-slow,leak=worker-fast');
  expect(start.code, start.stderr).toBe(0);
  const proctor = readRun(stack.stateDir, 'exam-3')?.proctor;
  expect(proctor?.pid).toBeGreaterThan(0);

  await expectNothingYet();

  // 3 PM: service-a slows down, the candidate sees it; cleared by hand (not a fix), it comes back.
  // Polled every 250 ms: the proctor and the roles share this machine (and a KV read is a consumer on NATS).
  await waitFor(async () => ((await faultOn('service-a', 'latency')) === 1 ? true : undefined), 45_000, () => 'the 3 PM failure', 250);
  // Acknowledged on the console's board: a silence in Alertmanager, which the proctor counts as the
  // ack from the moment it began (in time or late: under a loaded CI 15 exam minutes can pass first).
  await alertmanagerApi(stack.url('alertmanager')).silence({ alertname: 'TpsLatencySpike', pool: 'fast' }, 'carol (console)', 'p50 of both pools up by 0.8 s', 2);
  await waitFor(() => (/acknowledged in Alertmanager: downstream after \d+ s of exam time \((in time|late)\)/.test(proctorLog()) || undefined), 20_000, () => `the proctor to count the silence; its log ends: ${proctorLog().slice(-1500)}`, 250);
  const chaos = await openChaosStore(stack.nc);
  const latencyOnA = async () => (await chaos.list()).find((f) => f.target === 'service-a' && f.fault === 'latency');
  const before = await latencyOnA();
  expect((await tps(['chaos', 'clear', 'service-a'], env)).code).toBe(0);
  const again = await waitFor(async () => {
    const now = await latencyOnA();
    return now && now.setAt > (before?.setAt ?? '') ? now : undefined;
  }, 40_000, () => `the proctor to set the 3 PM failure again; its log ends: ${proctorLog().slice(-1500)}`, 500);
  expect(again.by).toBe('exam exam-3 (the day\'s failures)');

  const solved = await exam('solve');
  console.info(`solve (exit ${solved.code}):\n${solved.stdout}${solved.stderr}`);
  expect(solved.code, solved.stderr + solved.stdout).toBe(0);
  expect(solved.stdout).toMatch(/acknowledged crash/);
  expect(solved.stdout).toContain('restarted worker-fast');
  expect(solved.stdout).toContain('verify-bandwidth holds');

  const graded = await exam('check');
  expect(graded.stdout).toMatch(/pass {2}verify-leak /);
  expect(graded.stdout).toMatch(/pass {2}fix-crash /);
  expect(graded.code, graded.stdout).toBe(0);
  expect(graded.stdout).toMatch(/PASSED, score (8\d|9\d|100) %/);
  console.info(graded.stdout.split('\n').filter((l) => /FAIL|score/.test(l)).join('\n'));
  const report = await exam('report');
  expect(report.stdout).toContain('Friday before a holiday weekend');
  expect(report.stdout).toMatch(/prevent-leak/);
  // What happened, how it was detected and what was changed, per failure.
  expect(report.stdout).toMatch(/\| 3 PM: a downstream service becomes slow \(downstream: latency on service-a\) \| [\d:]+ \| \d+ exam min, (in time|late): "carol \(console\) silenced TpsLatencySpike: p50 of both pools up by 0\.8 s" \|/);
  expect(report.stdout).toMatch(/control\.restart restart worker-fast/);
  expect(report.stdout).toMatch(/\| SLOs broken for \|/);
  expect(report.stdout).toMatch(/\(database: latency on service-c\) .*\| \d+ exam min \|\n/);
  expect(report.stdout).toMatch(/\| 5 PM: .*config\.set cache\.service-c = 60000/);

  // The day is over: the proctor has gone, and so have its faults.
  expect((await exam('stop')).code).toBe(0);
  expect(() => process.kill(proctor?.pid ?? 0, 0)).toThrow();
  expect(await faultOn('service-c', 'latency')).toBe(0);
  expect(await faultOn('service-b', 'bandwidth')).toBe(0);
}, 480_000);
