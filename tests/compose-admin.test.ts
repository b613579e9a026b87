// docker-compose.admin.yml, statically: the override that turns the admin API on in compose, so
// the console's actions work (docs/compose.md#actions-from-the-console). The compose test
// (tests/docker/console-actions.ts) runs it on a real engine.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultPorts } from '#platform/ports.ts';

type Service = { environment?: Record<string, string>; ports?: string[] };
const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
const services = (parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> }).services;
describe('docker-compose.admin.yml (the console\'s actions in compose)', () => {
  const admin = parse(read('docker-compose.admin.yml')) as { services: Record<string, Service> };

  it('validates against the Compose Specification schema and overrides only the autoscaler', () => {
    const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false, validateFormats: false });
    const validate = ajv.compile(JSON.parse(read('tests/schemas/compose-spec.json')) as object);
    expect(validate(admin), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(Object.keys(admin.services)).toEqual(['autoscaler']);
  });

  it('serves the admin API where the console looks for it, published on 127.0.0.1 only, as the NATS operator, and needs a token', () => {
    const env = admin.services.autoscaler?.environment ?? {};
    expect(env).toMatchObject({ ADMIN_API: 'true', ADMIN_HOST: '0.0.0.0', NATS_USER: 'operator' });
    expect(env.ADMIN_TOKEN).toMatch(/^\$\{ADMIN_TOKEN:\?.*make compose-env ADMIN=1/);
    // The operator's password as the tools service has it (the same lab default without .env).
    expect(env.NATS_PASSWORD).toBe(services.tps?.environment?.NATS_PASSWORD);
    expect(admin.services.autoscaler?.ports).toEqual([`127.0.0.1:\${TPS_ADMIN_PORT:-${defaultPorts.admin}}:${defaultPorts.admin}`]);
    expect(services.console?.environment?.TPS_ADMIN_URL).toBe(`http://autoscaler:${defaultPorts.admin}`);
  });
});
