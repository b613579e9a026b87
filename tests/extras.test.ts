// Native mode's optional processes: Prometheus when installed (with a generated config that has
// a job per role reading the targets files the supervisor keeps), a note for each of Grafana and Jaeger, and a clear
// note instead of a crash loop when a port is taken or monitoring is off.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '#platform/config.ts';
import { defaultPorts } from '#platform/ports.ts';
import { roles } from '#services/registry.ts';
import { extraProcesses } from '#operator/supervisor/extras.ts';
import { grafanaLoginLine, grafanaPasswordFile } from '#operator/supervisor/grafana-settings.ts';
import { freeOffset } from '#devenv/stack.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-extras-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function extrasAt(offset: number, env: Record<string, string> = {}, stateDir = dir) {
  const config = loadConfig({ TPS_PORT_OFFSET: String(offset), TPS_SCRAPE_INTERVAL: '2s', ...env });
  return extraProcesses({ config, stateDir, offset, natsUrl: 'nats://127.0.0.1:4222', roles: Object.keys(roles) });
}

it('starts Prometheus with exemplars kept, a job per role reading the supervisor\'s targets file', async () => {
  const offset = await freeOffset();
  const { processes, notes } = await extrasAt(offset);
  const prometheus = processes.find((p) => p.name === 'prometheus');
  expect(prometheus?.url).toBe(`http://127.0.0.1:${defaultPorts.prometheus + offset}`);
  expect(prometheus?.spec.restart).toBe(true);
  expect(prometheus?.spec.args).toEqual(expect.arrayContaining(['--enable-feature=exemplar-storage', `--web.listen-address=127.0.0.1:${defaultPorts.prometheus + offset}`]));
  const config = parse(readFileSync(path.join(dir, 'prometheus', 'prometheus.yml'), 'utf8'));
  expect(config.global.scrape_interval).toBe('2s');
  expect(config.scrape_configs.map((c: { job_name: string; file_sd_configs: Array<{ files: string[] }> }) => [c.job_name, c.file_sd_configs[0]?.files[0]]))
    .toEqual(Object.values(roles).map((r) => [r.name, path.join(dir, 'prometheus', 'targets', `${r.name}.json`)]));
  expect(notes.some((n) => n.startsWith('Prometheus scrapes every role and worker replica every 2 s'))).toBe(true);
  // Grafana and Jaeger are not Debian packages: each is either started or explained.
  for (const name of ['grafana', 'jaeger']) {
    const started = processes.some((p) => p.name === name);
    expect(started || notes.some((n) => n.toLowerCase().startsWith(`${name} not`)), name).toBe(true);
  }
});

it('says so instead of starting Prometheus when its port is taken', async () => {
  const offset = await freeOffset();
  const squatter = net.createServer();
  await new Promise<void>((resolve) => squatter.listen(defaultPorts.prometheus + offset, '127.0.0.1', resolve));
  try {
    const { processes, notes } = await extrasAt(offset);
    expect(processes.map((p) => p.name)).not.toContain('prometheus');
    expect(notes).toContain(`Prometheus not started: port ${defaultPorts.prometheus + offset} is in use (a system Prometheus? stop it, or use TPS_PORT_OFFSET).`);
  } finally {
    await new Promise((resolve) => squatter.close(resolve));
  }
});

it('starts nothing with TPS_MONITORING=off, and says so', async () => {
  const { processes, notes } = await extrasAt(await freeOffset(), { TPS_MONITORING: 'off' });
  expect(processes).toEqual([]);
  expect(notes).toEqual(['Monitoring off (TPS_MONITORING=off): Prometheus, Grafana and Jaeger not started.']);
});

it('rejects a bad monitoring setting with a clear message', () => {
  expect(() => loadConfig({ TPS_MONITORING: 'yes' })).toThrow(/TPS_MONITORING="yes": expected auto or off/);
  expect(() => loadConfig({ TPS_SCRAPE_INTERVAL: '100ms' })).toThrow(/TPS_SCRAPE_INTERVAL="100ms": at least 1s/);
});

it('Prometheus gets no lifecycle API (nothing reloads it over HTTP; /-/quit would stop it)', async () => {
  const { processes } = await extrasAt(await freeOffset());
  const args = processes.find((p) => p.name === 'prometheus')?.spec.args ?? [];
  expect(args.length).toBeGreaterThan(0);
  expect(args.filter((a) => a.includes('lifecycle'))).toEqual([]);
});

// Grafana is not installed here: a stand-in install (a `grafana` that is never run, next to a
// conf/defaults.ini) lets the supervisor build the real process spec, whose environment is checked
// against Grafana's documented settings (conf/defaults.ini [security], [users], [auth.anonymous]).
describe('Grafana login (reliability matrix S15)', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'tps-grafana-home-'));
  const savedPath = process.env.PATH;
  beforeAll(() => {
    mkdirSync(path.join(home, 'bin'));
    mkdirSync(path.join(home, 'conf'));
    writeFileSync(path.join(home, 'conf', 'defaults.ini'), '');
    writeFileSync(path.join(home, 'bin', 'grafana'), '#!/bin/sh\nexit 1\n');
    chmodSync(path.join(home, 'bin', 'grafana'), 0o755);
    process.env.PATH = `${path.join(home, 'bin')}:${savedPath}`;
  });
  afterAll(() => {
    process.env.PATH = savedPath;
    rmSync(home, { recursive: true, force: true });
  });
  const grafanaEnv = async (env: Record<string, string>, stateDir: string) => {
    const { processes, notes } = await extrasAt(await freeOffset(), env, stateDir);
    const spec = processes.find((p) => p.name === 'grafana')?.spec;
    expect(spec?.command).toBe(path.join(home, 'bin', 'grafana'));
    return { env: spec?.env ?? {}, note: notes.find((n) => n.startsWith('Grafana:')) ?? '' };
  };

  it('has no admin/admin, no sign-up and no anonymous viewing; its generated password is private and kept', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'tps-grafana-state-'));
    try {
      const { env, note } = await grafanaEnv({}, stateDir);
      const file = grafanaPasswordFile(stateDir);
      expect(env).toMatchObject({
        GF_SECURITY_ADMIN_USER: 'admin', GF_SECURITY_ADMIN_PASSWORD__FILE: file,
        GF_USERS_ALLOW_SIGN_UP: 'false', GF_USERS_ALLOW_ORG_CREATE: 'false', GF_AUTH_ANONYMOUS_ENABLED: 'false',
      });
      expect(env.GF_SECURITY_ADMIN_PASSWORD).toBeUndefined();
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const password = readFileSync(file, 'utf8');
      expect(password).toMatch(/^[\w-]{24}$/);
      expect(note).toMatch(/log in as admin \(password: .*admin-password\); sign-up off; anonymous viewing off/);
      expect(note).not.toContain(password);
      // Grafana sets the password only when it creates its database: the next start must keep it.
      await grafanaEnv({}, stateDir);
      expect(readFileSync(file, 'utf8')).toBe(password);
      expect(grafanaLoginLine(stateDir, loadConfig({}).grafana)).toContain(`admin / ${password}`);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('takes GRAFANA_ADMIN_PASSWORD instead, and anonymous viewing only when asked', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'tps-grafana-state-'));
    try {
      const { env, note } = await grafanaEnv({ GRAFANA_ADMIN_PASSWORD: 'chosen-one', GRAFANA_ANONYMOUS: 'true' }, stateDir);
      expect(env).toMatchObject({ GF_SECURITY_ADMIN_PASSWORD: 'chosen-one', GF_AUTH_ANONYMOUS_ENABLED: 'true', GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer', GF_USERS_ALLOW_SIGN_UP: 'false' });
      expect(env.GF_SECURITY_ADMIN_PASSWORD__FILE).toBeUndefined();
      expect(note).toMatch(/anonymous viewing on \(GRAFANA_ANONYMOUS=true\)/);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
