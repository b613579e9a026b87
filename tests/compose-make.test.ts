// `make chaos`, `make chaos-stop` and `make load` in compose mode (MODE=compose), as calls: the
// `docker compose` they call is a recorder (COMPOSE=...) and every call is checked against
// docker-compose.yml: the services, profiles and variables it names must exist there. The same
// commands against a real stack on a real Docker engine: tests/docker/ (make test-compose).
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectRoot } from '#platform/paths.ts';

type Service = { profiles?: string[]; environment?: Record<string, string>; command?: string[] };
const compose = parse(readFileSync(path.join(projectRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };

const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-compose-make-'));
const recorder = path.join(dir, 'docker-compose-recorder');
const calls = path.join(dir, 'calls');
writeFileSync(recorder, `#!/bin/sh\nprintf '%s\\n' "$*" >> "${calls}"\nenv | grep -E '^(RATE|DURATION|MIX)=' | sort | tr '\\n' ' ' >> "${calls}.env"\n`);
chmodSync(recorder, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `make <target>` in compose mode with the recorder as `docker compose`; its calls, one per line. */
function make(args: string[]): Promise<{ code: number | null; out: string; calls: string[]; env: string }> {
  rmSync(calls, { force: true });
  rmSync(`${calls}.env`, { force: true });
  return new Promise((resolve) => {
    // No Docker daemon answers at DOCKER_HOST, so nothing tells the scripts which project runs.
    const env = { ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
    const child = spawn('make', ['--no-print-directory', ...args, 'MODE=compose', `COMPOSE=${recorder}`], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('exit', (code) => {
      const read = (f: string) => { try { return readFileSync(f, 'utf8'); } catch { return ''; } };
      resolve({ code, out, calls: read(calls).split('\n').filter(Boolean), env: read(`${calls}.env`) });
    });
  });
}

/** Every service a `stop`/`start` call names exists, and a `run` names a service of the profile it enables. */
function expectKnownToCompose(call: string): void {
  const words = call.split(' ');
  if (words[0] === 'stop' || words[0] === 'start') {
    for (const service of words.slice(1)) expect(Object.keys(compose.services), call).toContain(service);
    return;
  }
  const profile = words[words.indexOf('--profile') + 1] ?? '';
  const runAt = words.indexOf('run');
  expect(runAt, call).toBeGreaterThan(0);
  const service = words.slice(runAt + 1).find((w) => !w.startsWith('-')) ?? '';
  expect(compose.services[service]?.profiles, call).toContain(profile);
}

describe('make chaos in compose mode', () => {
  it('sets process faults through the tps tools service', async () => {
    const lab24 = await make(['chaos']);
    expect(lab24.code).toBe(0);
    expect(lab24.calls).toEqual(['--profile tools run --rm --no-deps -T tps chaos set service-a error_rate ratio=1']);
    const lab31 = await make(['chaos', 'TARGET=service-c', 'LATENCY=5000', 'DURATION=5m']);
    expect(lab31.calls).toEqual(['--profile tools run --rm --no-deps -T tps chaos set service-c latency ms=5000 --duration 5m']);
    for (const call of [...lab24.calls, ...lab31.calls]) expectKnownToCompose(call);
  });

  it('carries out system faults with docker compose stop, and chaos-stop starts them before it clears the rest', async () => {
    const nats = await make(['chaos', 'TARGET=nats']);
    expect(nats.calls).toEqual(['stop nats']);
    const monitoring = await make(['chaos', 'TARGET=monitoring']);
    expect(monitoring.calls).toEqual(['stop prometheus grafana']);
    const autoscaler = await make(['chaos', 'TARGET=autoscaler', 'FAULT=down']);
    expect(autoscaler.calls).toEqual(['stop autoscaler']);
    // A bare system target stops it, as for nats and monitoring; a named fault is a process fault.
    expect((await make(['chaos', 'TARGET=autoscaler'])).calls).toEqual(['stop autoscaler']);
    expect((await make(['chaos', 'TARGET=autoscaler', 'ERROR_RATE=0.5'])).calls).toEqual(['--profile tools run --rm --no-deps -T tps chaos set autoscaler error_rate ratio=0.5']);
    const stop = await make(['chaos-stop']);
    expect(stop.code).toBe(0);
    expect(stop.calls).toEqual(['start nats prometheus grafana autoscaler', '--profile tools run --rm --no-deps -T tps chaos reset']);
    for (const call of [...nats.calls, ...monitoring.calls, ...autoscaler.calls, ...stop.calls]) expectKnownToCompose(call);
  });

  it('refuses an unknown TARGET before reaching compose, naming every target (scripts/contract.sh)', async () => {
    const bogus = await make(['chaos', 'TARGET=bogus']);
    expect(bogus.code).not.toBe(0);
    expect(bogus.out).toContain('chaos: unknown target "bogus"; targets are: ingress, worker-fast, worker-slow, service-a, service-b, service-c, autoscaler, service-b-canary, service-c-canary, nats, prometheus, grafana, jaeger, monitoring');
    expect(bogus.calls).toEqual([]);
  });
});

describe('make load in compose mode', () => {
  it('runs the k6 service of the load profile with the rate, duration and mix it reads (LOADGEN=k6, or its image present)', async () => {
    const r = await make(['load', 'RATE=500', 'DURATION=1m', 'MIX=fast.echo=100', 'LOADGEN=k6']);
    expect(r.code).toBe(0);
    expect(r.calls).toEqual(['--profile load run --rm k6']);
    expectKnownToCompose(r.calls[0] ?? '');
    expect(r.env).toContain('RATE=500');
    expect(r.env).toContain('DURATION=1m');
    expect(r.env).toContain('MIX=fast.echo=100');
    // The service passes exactly these variables on to the k6 script.
    expect(compose.services.k6?.environment).toMatchObject({ RATE: '${RATE:-100}', DURATION: '${DURATION:-2m}' });
    expect(compose.services.k6?.environment?.MIX).toMatch(/^\$\{MIX:-/);
  });

  it('without a k6 image, runs the native generator in the tools container (its ledger is for make audit)', async () => {
    const r = await make(['load', 'RATE=500', 'DURATION=1m', 'MIX=fast.echo=100']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/native generator in the compose tools container/);
    expect(r.calls).toEqual(['--profile tools run --rm --no-deps -T tps load --rate 500 --duration 1m --mix fast.echo=100']);
    expectKnownToCompose(r.calls[0] ?? '');
    expect(compose.services.tps?.environment?.TPS_INGRESS_URL).toBe('http://ingress:8080');
  });

  it('refuses an unknown LOADGEN', async () => {
    const r = await make(['load', 'LOADGEN=jmeter']);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/LOADGEN must be auto, k6 or native, got 'jmeter'/);
    expect(r.calls).toEqual([]);
  });
});
