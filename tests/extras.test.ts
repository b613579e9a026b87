// Native mode's optional processes: Prometheus when installed (with a generated config that has
// a job per role reading the targets files the supervisor keeps), a note for each of Grafana and Jaeger, and a clear
// note instead of a crash loop when a port is taken or monitoring is off.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '#platform/config.ts';
import { defaultPorts } from '#platform/ports.ts';
import { roles } from '#services/roles.ts';
import { extraProcesses } from '#services/supervisor/extras.ts';
import { freeOffset } from './helpers/stack.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-extras-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function extrasAt(offset: number, env: Record<string, string> = {}) {
  const config = loadConfig({ TPS_PORT_OFFSET: String(offset), TPS_SCRAPE_INTERVAL: '2s', ...env });
  return extraProcesses({ config, stateDir: dir, offset, natsUrl: 'nats://127.0.0.1:4222' });
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
