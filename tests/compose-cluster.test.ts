// docker-compose.cluster.yml, statically: the three-node NATS cluster in compose
// (docs/nats-cluster.md#in-docker-compose). The compose test (tests/docker/run.sh, its cluster
// phase) runs the nodes and provisioning on a real engine.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { findNatsServer } from '#platform/nats/server-binary.ts';

type Service = { environment?: Record<string, string>; ports?: string[]; volumes?: string[]; command?: string[]; read_only?: boolean; cap_drop?: string[]; security_opt?: string[]; image?: string; depends_on?: Record<string, unknown> };
type ComposeFile = { services: Record<string, Service>; volumes?: Record<string, unknown> };
const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
const base = parse(read('docker-compose.yml'), { merge: true }) as ComposeFile;
const cluster = parse(read('docker-compose.cluster.yml'), { merge: true }) as ComposeFile;
const nodes = ['nats', 'nats-2', 'nats-3'];

describe('docker-compose.cluster.yml (three NATS nodes in compose)', () => {
  it('validates against the Compose Specification schema', () => {
    const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false, validateFormats: false });
    const validate = ajv.compile(JSON.parse(read('tests/schemas/compose-spec.json')) as object);
    // As compose reads it: with the YAML merge keys (<<) applied.
    expect(validate(cluster), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('gives every service that talks to NATS all three servers and three copies', () => {
    const clients = Object.entries(base.services).filter(([, s]) => s.environment?.NATS_URL).map(([name]) => name);
    expect(clients.length).toBeGreaterThan(8);
    for (const name of clients) {
      expect(cluster.services[name]?.environment, name).toMatchObject({
        NATS_URL: nodes.map((n) => `nats://${n}:4222`).join(','),
        NATS_STREAM_REPLICAS: '3',
      });
    }
    // Provisioning places three copies: it waits for every node.
    expect(Object.keys(cluster.services.provision?.depends_on ?? {})).toEqual(['nats-2', 'nats-3']);
  });

  it('runs each node as the base file runs nats: hardened, the same users, a store of its own, ports unpublished', () => {
    const natsBase = base.services.nats ?? {};
    for (const name of ['nats-2', 'nats-3']) {
      const node = cluster.services[name] ?? {};
      expect(node).toMatchObject({ image: natsBase.image, read_only: true, cap_drop: ['ALL'], security_opt: natsBase.security_opt, command: ['-c', '/etc/nats/nats-cluster.conf'] });
      expect(node.ports, name).toBeUndefined();
      expect(node.volumes).toContain(`${name}-data:/data`);
      expect(Object.keys(cluster.volumes ?? {})).toContain(`${name}-data`);
    }
    for (const name of nodes) {
      const env = { ...base.services[name]?.environment, ...cluster.services[name]?.environment };
      // The same password variables, with the same lab defaults, as the base file's nats service.
      for (const [key, value] of Object.entries(natsBase.environment ?? {})) expect(env[key], `${name} ${key}`).toBe(value);
      expect(env.NATS_SERVER_NAME).toBe(name === 'nats' ? 'nats-1' : name);
      expect([env.NATS_ROUTE_1, env.NATS_ROUTE_2, env.NATS_ROUTE_3]).toEqual(nodes.map((n) => `nats://route:\${NATS_PASSWORD_ROUTE:-tps-lab-route}@${n}:6222`));
    }
  });

  it('is a configuration nats-server accepts, and refuses without the route password', () => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', NATS_SERVER_NAME: 'nats-1', NATS_PASSWORD_ROUTE: 'r' };
    for (const [key, value] of Object.entries(cluster.services.nats?.environment ?? {})) env[key] = value.replace(/\$\{[A-Z_]+:-([^}]+)\}/g, '$1');
    const test = (e: Record<string, string>) => execFileSync(findNatsServer(), ['-t', '-c', 'nats/nats-cluster.conf'], { env: e, cwd: new URL('..', import.meta.url), stdio: 'pipe' }).toString();
    expect(() => test(env)).not.toThrow();
    const { NATS_PASSWORD_ROUTE: _route, ...without } = env;
    expect(() => test(without)).toThrow(/NATS_PASSWORD_ROUTE/);
  });
});
