// Capacity planning (lab 3.5) against a real Prometheus and real promtool, through the real `tps`:
// the forecast recovers what the staged history was built with (20 % a month from 100 jobs/s,
// peaks 2.5x, each job type's work along the chain), `tps capacity` says why it cannot plan when
// it cannot, and `tps lab start 3.5` stages the 90 days into the running Prometheus (the block
// reload, up to a minute), after which doing nothing fails every check with its reason, a plan
// that runs out fails, and `solve` then `check` passes. The arithmetic alone runs on hand-made
// hourly series.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tps } from '#devenv/cli.ts';
import { unusedPort } from '#devenv/ports.ts';
import { waitFor } from '#devenv/nats-server.ts';
import { startPrometheus, type TestPrometheus } from '#devenv/prometheus.ts';
import { nativePrometheusDir } from '#monitoring/native.ts';
import { forecast, ForecastError, type HourlySeries, type History } from '#operator/capacity/forecast.ts';
import { parseFigure } from '#operator/capacity/quantities.ts';
import { jobCatalogue, route } from '#platform/job-catalogue.ts';

const prices = { coreMonth: 25, gibMonth: 3.5, currency: '$' };
const hourMs = 3_600_000;

/** `days` of hourly series: load growing `growth` a month to `now` jobs/s, a peak of `peak` x the mean at 15:00, the fast pool 4 jobs in 5. */
function handMade(days: number, growth: number, now: number, opts: { outage?: number } = {}): History {
  const [end, peakShare] = [Date.UTC(2026, 11, 1), 2.5];
  const t = Array.from({ length: days * 24 }, (_, k) => end - (days * 24 - 1 - k) * hourMs);
  const load = t.map((ms) => {
    const hour = new Date(ms).getUTCHours();
    const shape = hour === 15 ? peakShare : (24 - peakShare) / 23;
    const inOutage = opts.outage !== undefined && ms > end - (opts.outage + 1) * 24 * hourMs && ms <= end - opts.outage * 24 * hourMs;
    return inOutage ? 0 : now * (1 + growth) ** ((ms - end) / (30.436875 * 24 * hourMs)) * shape;
  });
  const series = (f: (v: number) => number): HourlySeries => ({ t, values: load.map(f) });
  return {
    end,
    cpuCores: series((v) => 0.1 + v * 500e-6),
    memoryBytes: series((v) => 700e6 + v * 1e6),
    pools: {
      fast: { arrivals: series((v) => 0.8 * v), busy: series((v) => 0.8 * v * 0.01), depth: series((v) => 0.8 * v * 0.4), slotsPerWorker: 128, workersNow: 1 },
      slow: { arrivals: series((v) => 0.2 * v), busy: series((v) => 0.2 * v * 0.5), depth: series((v) => 0.2 * v * 2), slotsPerWorker: 64, workersNow: 1 },
    },
  };
}

describe('the forecast arithmetic', () => {
  it('recovers growth, the load now and the peak, and sizes each point by Little\'s law', () => {
    const plan = forecast(handMade(90, 0.2, 100), { prices });
    expect(plan.monthlyGrowth).toBeCloseTo(0.2, 2);
    expect(plan.peakFactor).toBeCloseTo(2.5, 1);
    const year = plan.points.find((p) => p.months === 12);
    expect(year?.load).toBeGreaterThan(100 * 1.2 ** 12 * 0.95);
    expect(year?.load).toBeLessThan(100 * 1.2 ** 12 * 1.05);
    // Slow: 20 % of the peak, 0.5 s a job, at 80 %; 64 slots a worker.
    const slowSlots = Math.ceil(((year?.peak ?? 0) * 0.2 * 0.5) / 0.8);
    expect(year?.pools.slow).toMatchObject({ slots: slowSlots, workers: Math.ceil(slowSlots / 64) });
    expect(plan.outgrows.slow).toBeLessThanOrEqual(6);
    expect(plan.costFirstYear).toBeCloseTo(plan.monthly.reduce((s, m) => s + m.costPerMonth, 0), 6);
  });

  it('is not bent by a day without load, and refuses a history too short to fit', () => {
    expect(forecast(handMade(90, 0.2, 100, { outage: 20 }), { prices }).monthlyGrowth).toBeCloseTo(0.2, 2);
    expect(() => forecast(handMade(10, 0.2, 100), { prices })).toThrow(ForecastError);
    expect(() => forecast(handMade(10, 0.2, 100), { prices })).toThrow(/10 full day\(s\) of load; a forecast needs at least 14/);
  });

  it('reads figures as people write them', () => {
    expect(['20', '20 %', '1,420', '$321', '4.0 GiB', 'abc'].map(parseFigure)).toEqual([20, 20, 1420, 321, 4, undefined]);
  });
});

describe('lab 3.5 and tps capacity against a real Prometheus', () => {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'tps-capacity-'));
  let server: TestPrometheus;
  let env: Record<string, string>;

  beforeAll(async () => {
    server = await startPrometheus(nativePrometheusDir(stateDir));
    // Native mode named (no stack runs: lab 3.5 reads Prometheus and the answers only).
    env = { TPS_MODE: 'native', TPS_STATE_DIR: stateDir, TPS_PROMETHEUS_URL: server.url, LOG_LEVEL: 'warn' };
  }, 40_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }, 30_000);

  it('tps capacity says why it cannot plan: bad flags, no history, no Prometheus', async () => {
    const short = await tps(['capacity', '--days', '5'], env);
    expect([short.code, short.stderr]).toEqual([2, expect.stringContaining('--days: a forecast needs at least 14 days')]);
    const empty = await tps(['capacity'], env);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/holds no tps_jobs_submitted_total in the last 90 days: no load to plan from \(lab 3\.5 stages three months: tps lab start 3\.5\)/);
    const nowhere = await tps(['capacity', '--prometheus', `http://127.0.0.1:${await unusedPort()}`], env);
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toMatch(/Prometheus does not answer at http:\/\/127\.0\.0\.1:\d+/);
    expect(nowhere.stderr).not.toMatch(/\n\s+at /);
  });

  it('stages 90 days; unanswered and short plans fail with reasons; the plan recovers the history; solve passes', async () => {
    const blocksBefore = new Set(readdirSync(server.dataDir));
    const starting = tps(['lab', 'start', '3.5'], env, { timeoutMs: 180_000 });
    // This Prometheus is the test's, not a supervisor's: tps waits for its block reload (up to a
    // minute), and the test restarts it once the blocks are in, as the supervisor would.
    await waitFor(() => readdirSync(server.dataDir).filter((n) => /^[0-9A-Z]{26}$/.test(n) && !blocksBefore.has(n)).length >= 4 || undefined, 120_000, () => 'the history\'s blocks in Prometheus\' data folder', 100);
    await server.restart();
    const start = await starting;
    expect(start.code, start.stderr + start.stdout).toBe(0);
    expect(start.stdout).toMatch(/history: 90 days of growing load backfilled into Prometheus \(\d+ blocks\)/);
    expect(start.stdout).toContain('history: waiting for Prometheus to load it (it reloads its blocks every minute)');

    const idle = await tps(['lab', 'check', '3.5'], env);
    expect(idle.code).toBe(1);
    expect(idle.stdout).toMatch(/FAIL {2}growth .*no answer yet: tps lab answer 3\.5 growth=<number>/);
    expect(idle.stdout).toMatch(/FAIL {2}strategy /);

    const plan = await tps(['capacity', '--json'], env);
    expect(plan.code, plan.stderr).toBe(0);
    const p = JSON.parse(plan.stdout) as { monthlyGrowth: number; currentLoad: number; peakFactor: number; points: { months: number; load: number; peak: number; workers: number; pools: Record<string, { slots: number }> }[] };
    // What growth-history.ts was built with, and the catalogue's work per slow job.
    expect(p.monthlyGrowth).toBeGreaterThan(0.18);
    expect(p.monthlyGrowth).toBeLessThan(0.22);
    expect(p.currentLoad).toBeGreaterThan(92);
    expect(p.currentLoad).toBeLessThan(108);
    expect(p.peakFactor).toBeGreaterThan(2.2);
    expect(p.peakFactor).toBeLessThan(2.8);
    const slowSecondsPerJob = ['slow.report', 'slow.export'].map((n) => jobCatalogue[n]).reduce((s, t, i) => s + [0.75, 0.25][i]! * (route(t!).reduce((ms, h) => ms + (t!.work[h]?.latencyMs ?? 0), 0) + 2) / 1000, 0);
    const year = p.points.find((x) => x.months === 12)!;
    const slots = (year.peak * 0.2 * slowSecondsPerJob) / 0.8;
    expect(year.pools.slow!.slots).toBeGreaterThan(slots * 0.9);
    expect(year.pools.slow!.slots).toBeLessThan(slots * 1.1);

    const short = await tps(['lab', 'answer', '3.5', 'workers-12m=1', 'growth=abc', `load-3m=${Math.round(p.points[0]!.load * 1.5)}`], env);
    expect(short.code, short.stderr).toBe(0);
    const wrong = await tps(['lab', 'check', '3.5'], env);
    expect(wrong.stdout).toMatch(/FAIL {2}workers .*workers-12m=1: too few: a conservative plan does not run out \(the grader's plan, fitted to the same history: \d+\)/);
    expect(wrong.stdout).toMatch(/FAIL {2}growth .*growth=abc is not a number/);
    expect(wrong.stdout).toMatch(/FAIL {2}forecast .*load-3m=\d+: more than 15 % off/);

    const solved = await tps(['lab', 'solve', '3.5'], env, { timeoutMs: 120_000 });
    expect(solved.code, solved.stderr + solved.stdout).toBe(0);
    expect(solved.stdout).toMatch(/answered from tps capacity: growth=\d+(\.\d)?, load-3m=\d+/);
    const passed = await tps(['lab', 'check', '3.5'], env);
    expect(passed.stdout).toMatch(/PASSED, score 100 %/);
    expect(passed.code).toBe(0);
  }, 240_000);
});
