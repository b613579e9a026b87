// The Prometheus rules against real promtool: syntax (check), behaviour (test rules: every alert
// fires in one case and stays quiet in another), and the lab alerts fire within a lab.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { requireBinary } from '#platform/binaries.ts';
import { burnAlerts } from '#monitoring/rules/slo.ts';
import { severities } from '#monitoring/handbook.ts';
import { writeAlertmanagerConfig } from '#monitoring/native.ts';
import { readYaml, root, rules } from '#devenv/monitoring.ts';

const promtool = requireBinary('promtool', 'Run `scripts/bootstrap.sh --with-prometheus` (make test does).');
const run = (...args: string[]) => spawnSync(promtool, args, { cwd: root('prometheus'), encoding: 'utf8', timeout: 120_000 });
const testFiles = readdirSync(root('prometheus', 'tests')).filter((f) => f.endsWith('.test.yml'));

type Case = { eval_time: string; alertname: string; exp_alerts: unknown[] };
type TestFile = { tests: Array<{ name: string; alert_rule_test?: Case[] }> };
const cases = testFiles.flatMap((f) => readYaml<TestFile>(`prometheus/tests/${f}`).tests.flatMap((t) => t.alert_rule_test ?? []));

/** promtool durations as minutes: "45m", "1h", "1h30m". */
const minutes = (d: string) => [...d.matchAll(/(\d+)([hms])/g)].reduce((sum, [, n, u]) => sum + Number(n) * ({ h: 60, m: 1, s: 1 / 60 }[u ?? 'm'] ?? 0), 0);

it('promtool accepts the compose configuration and every rule file', () => {
  const config = run('check', 'config', 'prometheus.yml');
  expect(config.status, config.stdout + config.stderr).toBe(0);
  const checked = run('check', 'rules', ...readdirSync(root('prometheus', 'rules')).map((f) => `rules/${f}`));
  expect(checked.status, checked.stdout + checked.stderr).toBe(0);
}, 60_000);

it('amtool accepts the Alertmanager configuration, compose\'s and the copy native mode writes, each routing every severity to the console', () => {
  const amtool = requireBinary('amtool', 'Run `scripts/bootstrap.sh --with-prometheus` (it installs Debian\'s prometheus-alertmanager).');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-am-'));
  try {
    for (const file of [root('alertmanager', 'alertmanager.yml'), writeAlertmanagerConfig(dir, 'http://127.0.0.1:8190')]) {
      const checked = spawnSync(amtool, ['check-config', file], { encoding: 'utf8', timeout: 30_000 });
      expect(checked.status, checked.stdout + checked.stderr).toBe(0);
      for (const severity of severities) {
        const routed = spawnSync(amtool, ['config', 'routes', 'test', '--config.file', file, `severity=${severity}`, 'alertname=X'], { encoding: 'utf8', timeout: 30_000 });
        expect(routed.stdout.trim(), `${severity}: ${routed.stderr}`).toBe('console');
      }
    }
    expect(readFileSync(path.join(dir, 'alertmanager.yml'), 'utf8')).toContain('url: http://127.0.0.1:8190/api/alerts/webhook');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

it('promtool test rules: every case passes', () => {
  const result = run('test', 'rules', ...testFiles.map((f) => `tests/${f}`));
  expect(result.status, result.stdout + result.stderr).toBe(0);
  expect(result.stdout.match(/SUCCESS/g)?.length).toBe(testFiles.length);
}, 120_000);

it('every alert has a firing and a quiet case', () => {
  const alerts = rules().flatMap((r) => (r.alert ? [r.alert] : []));
  expect(alerts.length).toBeGreaterThan(20);
  const missing = alerts.flatMap((a) => {
    const mine = cases.filter((c) => c.alertname === a);
    return [
      ...(mine.some((c) => c.exp_alerts.length > 0) ? [] : [`${a}: no firing case`]),
      ...(mine.some((c) => c.exp_alerts.length === 0) ? [] : [`${a}: no quiet case`]),
    ];
  });
  expect(missing).toEqual([]);
});

it('the lab burn-rate alerts fire within a 45-minute lab in their tests', () => {
  for (const lab of burnAlerts.filter((b) => b.period === 'lab')) {
    const firing = cases.filter((c) => c.alertname === lab.alert && c.exp_alerts.length > 0).map((c) => minutes(c.eval_time));
    expect(firing.length, lab.alert).toBeGreaterThan(0);
    expect(Math.min(...firing), lab.alert).toBeLessThanOrEqual(45);
  }
});
