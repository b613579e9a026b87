// docker-compose.yml, statically: its published contract (the Compose Specification schema) and
// the reference checks a schema cannot make: dependencies, healthchecks, ports, limits, hardening,
// a fresh clone's `docker-compose up` (no .env, Compose v1), and agreement with the code.
// `make test-compose` (tests/docker/) runs it on a real Docker engine.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configVariables } from '#platform/config.ts';
import { natsUserNames, passwordVariable } from '#platform/nats/permissions.ts';
import { roleUsers } from '#platform/roles.ts';
import { defaultPorts } from '#platform/ports.ts';
import { canaryName, canaryServices } from '#platform/canary.ts';
import { roles } from '#services/registry.ts';
import { projectRoot } from '#platform/paths.ts';

type Service = {
  image?: string; build?: unknown; command?: string[]; entrypoint?: string[]; environment?: Record<string, string>; ports?: string[];
  depends_on?: Record<string, { condition: string }>; healthcheck?: { test: string[] }; volumes?: string[]; user?: string;
  deploy?: { replicas?: number; resources?: { limits?: { memory?: string } } }; container_name?: string;
  read_only?: boolean; cap_drop?: string[]; security_opt?: string[]; profiles?: string[]; env_file?: string[];
};

const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const roleServices = Object.keys(roles);

function megabytes(limit: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmg])b?$/i.exec(limit);
  if (!m) throw new Error(`unreadable memory limit ${limit}`);
  return Number(m[1]) * ({ k: 1 / 1024, m: 1, g: 1024 } as Record<string, number>)[(m[2] ?? 'm').toLowerCase()]!;
}

describe('docker-compose.yml', () => {
  it('validates against the Compose Specification schema', () => {
    const schema = JSON.parse(read('tests/schemas/compose-spec.json')) as object;
    // The schema names draft-07 by an https URL Ajv does not know, and uses compose-specific formats.
    const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false, validateFormats: false });
    const validate = ajv.compile(schema);
    const raw = parse(read('docker-compose.yml'), { merge: true }) as Record<string, unknown>;
    // Extension fields (x-*) are allowed by the schema; validate the document as written.
    expect(validate(raw), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('depends only on services that exist, with a healthcheck where the condition needs one', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dep, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(services[dep], `${name} depends on missing ${dep}`).toBeDefined();
        if (condition === 'service_healthy') expect(services[dep]?.healthcheck, `${dep} needs a healthcheck for ${name}`).toBeDefined();
        if (condition === 'service_completed_successfully') expect(services[dep]?.command, `${dep} is a one-shot`).toBeDefined();
      }
    }
  });

  it('publishes ports only on 127.0.0.1, and scaled services have neither a container name nor a host port', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) {
        // The host side is a variable whose default is the container port (docs/compose.md lists them).
        const m = /^127\.0\.0\.1:\$\{(TPS_[A-Z_]+_PORT):-(\d+)\}:(\d+)$/.exec(port);
        expect(m, `${name} publishes ${port}`).not.toBeNull();
        expect(m?.[2], `${name}: ${port}`).toBe(m?.[3]);
        expect(read('docs/compose.md'), `${m?.[1]} documented`).toContain(m?.[1]);
        expect(read('scripts/compose.sh'), `${m?.[1]} checked before start`).toContain(`${m?.[1]}=${m?.[2]}`);
      }
    }
    for (const name of ['worker-fast', 'worker-slow']) {
      expect(services[name]?.container_name).toBeUndefined();
      expect(services[name]?.ports).toBeUndefined();
    }
    expect(services['worker-fast']?.deploy?.replicas).toBe(2);
    expect(services['worker-slow']?.deploy?.replicas).toBe(1);
  });

  it('limits memory, runs hardened, never mounts the docker socket, and pins every image', () => {
    let total = 0;
    for (const [name, service] of Object.entries(services)) {
      const limit = service.deploy?.resources?.limits?.memory;
      expect(limit, `${name} has no memory limit`).toBeDefined();
      if (!service.profiles) total += megabytes(limit ?? '0') * (service.deploy?.replicas ?? 1);
      expect(service.read_only, `${name} read_only`).toBe(true);
      expect(service.cap_drop, `${name} cap_drop`).toEqual(['ALL']);
      expect(service.security_opt, `${name} no-new-privileges`).toContain('no-new-privileges:true');
      for (const volume of service.volumes ?? []) expect(volume).not.toMatch(/docker\.sock/);
      if (service.image && !service.build) expect(service.image, `${name} image`).toMatch(/:[\w.-]*\d[\w.-]*$/);
    }
    // The OpenTelemetry Demo needs about 6 GB; this stack stays under it, the standing tools
    // container's 1 GB (its heaviest command's) included (docs/compose.md).
    expect(total).toBeLessThan(5_120);
    expect(read('docs/compose.md')).toContain(`${(total / 1024).toFixed(1)} GB`);
  });
});

/** The container ports a service publishes on the host (the default host port is the same). */
const published = (name: string) => (services[name]?.ports ?? []).map((p) => Number(p.split(':').at(-1)));
describe('a fresh clone: `docker-compose up` (v1.29) and `docker compose up` (v2) with no prior step', () => {
  const text = read('docker-compose.yml');
  it('has no top-level name (Compose v1 rejects it), no env_file and no required variable', () => {
    expect(Object.keys(parse(text) as object)).not.toContain('name');
    for (const [name, service] of Object.entries(services)) expect(service.env_file, name).toBeUndefined();
    expect(text).not.toMatch(/\$\{[A-Z_]+:\?/);
  });

  // dockerd makes a missing bind-mount source itself, as root: after `up` on a fresh clone a
  // non-root user's `bin/tps` could not write `.tps/` (mkdir .tps/compose: Permission denied).
  it('finds every project folder and file a service of `up` bind-mounts already in the clone, so dockerd never makes one as root', () => {
    const tracked = (source: string) => execFileSync('git', ['ls-files', '--', source], { cwd: projectRoot, encoding: 'utf8' }).trim() !== '';
    const mounts = ['docker-compose.yml', 'docker-compose.admin.yml', 'docker-compose.cluster.yml'].flatMap((file) =>
      // A service with a profile is started by bin/tps or scripts/compose.sh, which make its folders first.
      Object.entries((parse(read(file), { merge: true }) as typeof compose).services).filter(([, s]) => !s.profiles)
        .flatMap(([name, s]) => (s.volumes ?? []).map((v) => ({ at: `${file}: ${name} mounts`, source: v.split(':')[0] ?? '' }))));
    expect(mounts.filter((m) => m.source.startsWith('./') && !tracked(m.source)).map((m) => `${m.at} ${m.source}`)).toEqual([]);
  });

  it('gives every NATS user and Grafana one documented lab password when .env is absent, the same wherever it is used', () => {
    const defaults = new Map<string, Set<string>>();
    for (const m of text.matchAll(/\$\{((?:NATS|GRAFANA_ADMIN)_PASSWORD[A-Z_]*):-([^}]*)\}/g)) {
      defaults.set(m[1] ?? '', (defaults.get(m[1] ?? '') ?? new Set()).add(m[2] ?? ''));
    }
    for (const user of natsUserNames) {
      expect([...(defaults.get(passwordVariable(user)) ?? [])], user).toEqual([`tps-lab-${user}`]);
      expect(services.nats?.environment?.[passwordVariable(user)], user).toBe(`\${${passwordVariable(user)}:-tps-lab-${user}}`);
    }
    expect([...(defaults.get('GRAFANA_ADMIN_PASSWORD') ?? [])]).toEqual(['tps-lab']);
    for (const doc of ['README.md', 'docs/compose.md']) expect(read(doc), doc).toMatch(/tps-lab-<user>/);
  });

  it('keeps Prometheus\'s lifecycle API off and Grafana closed to sign-up (S15)', () => {
    expect(services.prometheus?.command ?? []).not.toContain('--web.enable-lifecycle');
    expect(services.grafana?.environment).toMatchObject({ GF_USERS_ALLOW_SIGN_UP: 'false', GF_USERS_ALLOW_ORG_CREATE: 'false', GF_AUTH_ANONYMOUS_ENABLED: '${GRAFANA_ANONYMOUS:-false}' });
  });

  it('names each role its own service in traces (no shared OTEL_SERVICE_NAME)', () => {
    for (const [name, service] of Object.entries(services)) expect(service.environment?.OTEL_SERVICE_NAME, name).toBeUndefined();
  });

  it('lets the tools services reach every role (every replica) and the ingress by service name: the standing one bin/tps execs in, and one per command', () => {
    // `tools` starts with `up` and idles (no Node of its own); `tps` (profile tools) runs one command.
    expect([services.tools?.profiles, services.tps?.profiles, services.tools?.entrypoint]).toEqual([undefined, ['tools'], ['/usr/bin/tini', '--', 'sleep', 'infinity']]);
    for (const key of ['environment', 'user', 'volumes', 'deploy'] as const) expect(services.tools?.[key], key).toEqual(services.tps?.[key]);
    const env = services.tps?.environment ?? {};
    const expected = roleServices.map((r) => `${r}=http://${r}:${defaultPorts[r as keyof typeof defaultPorts]}`).sort();
    expect(env.TPS_TARGETS?.split(',').sort()).toEqual(expected);
    expect(env.TPS_INGRESS_URL).toBe(`http://ingress:${defaultPorts.ingress}`);
    expect(env.TPS_STATE_DIR).toBe('/state');
  });
});

describe('compose and the code agree', () => {
  it('runs every role of the role table, and only those, from the one image', () => {
    // A canary (profile canary) runs its service's role on another version: checked below.
    const run = Object.entries(services).filter(([, s]) => s.image === 'tps-lab:local' && s.command?.[0] === 'run' && !s.profiles?.includes('canary'));
    expect(run.map(([, s]) => s.command?.[1]).sort()).toEqual([...roleServices].sort());
    for (const [name, service] of run) {
      expect(service.command?.[1]).toBe(name);
      expect(service.image).toBe('tps-lab:local');
    }
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--", "\/app\/bin\/tps"\]$/m);
    expect(read('bin/tps')).toMatch(/--import "\$root\/platform\/telemetry\/preload\.ts"/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^FROM node:24\.\d+\.\d+-bookworm-slim$/m);
  });

  it('gives every role the configuration it needs, by the names the code reads', () => {
    for (const name of roleServices) {
      const env = services[name]?.environment ?? {};
      expect(env.NATS_URL, name).toBe('nats://nats:4222');
      expect(env.HTTP_HOST, name).toBe('0.0.0.0');
      expect(env.NATS_USER, name).toBe(roleUsers[name]);
      expect(env.NATS_PASSWORD, name).toContain(passwordVariable(roleUsers[name] ?? 'operator'));
      for (const key of Object.keys(env)) {
        expect(configVariables.includes(key) || key.startsWith('OTEL_'), `${name}: ${key} is not a configuration variable`).toBe(true);
      }
      if (name.startsWith('worker') || name.startsWith('service')) {
        for (const hop of ['SERVICE_A_URL', 'SERVICE_B_URL', 'SERVICE_C_URL'] as const) {
          const target = hop.slice(0, 9).toLowerCase().replace('_', '-');
          expect(env[hop], `${name} ${hop}`).toBe(`http://${target}:${defaultPorts[target as 'service-a']}`);
        }
      }
    }
  });

  it('has a canary of each canaried service, started only on request, on its service\'s role and port', () => {
    for (const service of canaryServices) {
      const c = services[canaryName(service)];
      expect(c?.profiles, service).toEqual(['canary']);
      expect(c?.command).toEqual(['run', service]);
      expect(c?.environment).toMatchObject({ DEPLOYMENT_TRACK: 'canary', NATS_USER: 'service', SERVICE_VERSION: `\${${service.replace('-', '_').toUpperCase()}_CANARY_VERSION:-v2}` });
      expect(services[service]?.environment?.SERVICE_VERSION).toBe(`\${${service.replace('-', '_').toUpperCase()}_VERSION:-v1}`);
      for (const key of Object.keys(c?.environment ?? {})) expect(configVariables.includes(key) || key.startsWith('OTEL_'), `${key} is a configuration variable`).toBe(true);
      expect(c?.healthcheck?.test.join(' ')).toContain(`127.0.0.1:${defaultPorts[service]}/readyz`);
    }
  });

  it('checks readiness of each role on its own port', () => {
    for (const name of roleServices) {
      const port = defaultPorts[name as keyof typeof defaultPorts];
      expect(services[name]?.healthcheck?.test.join(' '), name).toContain(`127.0.0.1:${port}/readyz`);
    }
  });

  it('compose.env.example names every NATS user\'s password', () => {
    for (const user of natsUserNames) expect(read('compose.env.example')).toContain(`${passwordVariable(user)}=`);
  });

  it('points telemetry and monitoring at services that exist on the right ports', () => {
    const env = services.ingress?.environment ?? {};
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://jaeger:4318');
    expect(published('jaeger')).toEqual([defaultPorts.jaegerUi, defaultPorts.otlpHttp]);
    expect(published('grafana')).toEqual([defaultPorts.grafana]);
    expect(published('prometheus')).toEqual([defaultPorts.prometheus]);
    expect(published('alertmanager')).toEqual([defaultPorts.alertmanager]);
    expect(published('ingress')).toEqual([defaultPorts.ingress]);
    // Prometheus sends its alerts to the Alertmanager service, which routes them to the console.
    const alerting = (parse(read('prometheus/prometheus.yml')) as { alerting: { alertmanagers: Array<{ static_configs: Array<{ targets: string[] }> }> } }).alerting;
    expect(alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((c) => c.targets))).toEqual([`alertmanager:${defaultPorts.alertmanager}`]);
    expect(services.console?.environment?.TPS_ALERTMANAGER_URL).toBe(`http://alertmanager:${defaultPorts.alertmanager}`);
    const webhooks = (parse(read('alertmanager/alertmanager.yml')) as { receivers: Array<{ webhook_configs?: Array<{ url: string }> }> }).receivers.flatMap((r) => r.webhook_configs ?? []);
    expect(webhooks.map((w) => w.url)).toEqual([`http://console:${defaultPorts.console}/api/alerts/webhook`]);
  });

  it('scrapes every role, on its metrics port, under its compose service name', () => {
    const prometheus = parse(read('prometheus/prometheus.yml')) as { scrape_configs: Array<{ job_name: string; dns_sd_configs?: Array<{ names: string[]; port: number }>; static_configs?: Array<{ targets: string[] }> }> };
    const scraped = new Map<string, number>();
    for (const job of prometheus.scrape_configs) {
      for (const sd of job.dns_sd_configs ?? []) for (const name of sd.names) scraped.set(name, sd.port);
      for (const sc of job.static_configs ?? []) for (const t of sc.targets) scraped.set(t.split(':')[0] ?? '', Number(t.split(':')[1]));
    }
    for (const name of roleServices) {
      expect(scraped.get(name), `${name} scraped`).toBe(defaultPorts[name as keyof typeof defaultPorts]);
    }
    for (const name of scraped.keys()) expect(services[name], `prometheus scrapes ${name}, which compose does not run`).toBeDefined();
    expect(services.prometheus?.volumes).toContain('./prometheus:/etc/prometheus:ro');
  });

  it('provisions Grafana with datasources that name services and ports that exist, and the dashboards where the provider looks', () => {
    const datasources = parse(read('grafana/provisioning/datasources/tps.yml')) as { datasources: Array<{ uid: string; url: string }> };
    for (const ds of datasources.datasources) {
      const url = new URL(ds.url);
      expect(services[url.hostname], `${ds.uid} points at ${url.hostname}`).toBeDefined();
      expect(published(url.hostname), ds.uid).toContain(Number(url.port));
    }
    const providers = parse(read('grafana/provisioning/dashboards/tps.yml')) as { providers: Array<{ options: { path: string } }> };
    for (const p of providers.providers) expect(services.grafana?.volumes).toContain(`./grafana/dashboards:${p.options.path}:ro`);
    expect(services.grafana?.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(`${providers.providers[0]?.options.path}/tps-overview.json`);
    expect(read('jaeger/config.yaml')).toMatch(/4318/);
  });
});
