// What `make generate` writes is what the tables say: nats.conf, the compose worker services, NATS
// passwords and scrape targets, Prometheus' scrape jobs, scripts/contract.sh, the alert rules and
// dashboards. A file edited by hand, or a table changed without `make generate`, fails here.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectRoot } from '#platform/paths.ts';
import { poolDefinitions, poolNames, workerRole } from '#platform/pools.ts';
import { roleSpecs } from '#platform/roles.ts';
import { generatedFiles, staleFiles } from '#scripts/generated-files.ts';

const copies: string[] = [];
afterAll(() => { for (const dir of copies) rmSync(dir, { recursive: true, force: true }); });

/** A copy of the files the generator reads and writes, to break on purpose. */
function copyOfGenerated(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-generated-'));
  copies.push(dir);
  for (const file of Object.keys(generatedFiles(projectRoot))) cpSync(path.join(projectRoot, file), path.join(dir, file), { recursive: true });
  return dir;
}

it('every generated file is up to date (run `make generate`)', () => {
  expect(staleFiles(projectRoot)).toEqual([]);
});

it('a hand edit inside a generated block, or of a whole generated file, is reported stale', () => {
  const dir = copyOfGenerated();
  const compose = path.join(dir, 'docker-compose.yml');
  writeFileSync(compose, readFileSync(compose, 'utf8').replace('      replicas: 2', '      replicas: 3'));
  writeFileSync(path.join(dir, 'nats/nats.conf'), `${readFileSync(path.join(dir, 'nats/nats.conf'), 'utf8')}# edited\n`);
  expect(staleFiles(dir).sort()).toEqual(['docker-compose.yml', 'nats/nats.conf']);
});

it('an edit outside the generated blocks is the author\'s and stays', () => {
  const dir = copyOfGenerated();
  const prometheus = path.join(dir, 'prometheus/prometheus.yml');
  writeFileSync(prometheus, readFileSync(prometheus, 'utf8').replace('scrape_interval: 5s ', 'scrape_interval: 6s '));
  expect(staleFiles(dir)).toEqual([]);
});

it('compose runs one worker service per pool and Prometheus scrapes every role on its port', () => {
  const compose = parse(readFileSync(path.join(projectRoot, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { command: string[]; deploy: { replicas: number } }> };
  for (const pool of poolNames) {
    expect(compose.services[workerRole(pool)]?.command).toEqual(['run', workerRole(pool)]);
    expect(compose.services[workerRole(pool)]?.deploy.replicas).toBe(poolDefinitions[pool].composeReplicas);
  }
  const prometheus = parse(readFileSync(path.join(projectRoot, 'prometheus/prometheus.yml'), 'utf8')) as { scrape_configs: Array<{ job_name: string; dns_sd_configs: Array<{ port: number }> }> };
  const jobs = new Map(prometheus.scrape_configs.map((j) => [j.job_name, j.dns_sd_configs[0]?.port]));
  for (const role of roleSpecs) expect(jobs.get(role.name), role.name).toBe(role.port);
});
