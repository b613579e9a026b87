// Bad input around the compose stack gets a clear error and a non-zero exit, without a Docker
// engine: no stack running, Docker missing, its daemon not answering, a host port taken, a
// malformed or old .env. (The same scripts against a real engine: tests/docker/, make test-compose.)
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '#platform/paths.ts';
import { unusedPort } from '#devenv/ports.ts';

const temp = mkdtempSync(path.join(os.tmpdir(), 'tps-compose-preflight-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** No daemon answers here, so no compose stack can be found; no native state either. */
const nowhere = { DOCKER_HOST: 'unix:///nonexistent/docker.sock', TPS_STATE_DIR: path.join(temp, 'no-state'), NATS_URL: '', MODE: '', TPS_MODE: '' };

function run(command: string, args: string[], env: Record<string, string>, cwd = projectRoot): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('exit', (code) => resolve({ code, out }));
  });
}

/** A copy of what the compose scripts read, so .env files can be tried without touching ours. */
function checkout(name: string): string {
  const dir = path.join(temp, name);
  mkdirSync(dir, { recursive: true });
  cpSync(path.join(projectRoot, 'scripts'), path.join(dir, 'scripts'), { recursive: true });
  copyFileSync(path.join(projectRoot, 'docker-compose.yml'), path.join(dir, 'docker-compose.yml'));
  return dir;
}

describe('with no stack running', () => {
  it.each([
    ['make status', 'make', ['--no-print-directory', 'status']],
    ['make chaos', 'make', ['--no-print-directory', 'chaos']],
    ['make load', 'make', ['--no-print-directory', 'load', 'RATE=10']],
    ['bin/tps dlq list', 'bin/tps', ['dlq', 'list']],
  ])('%s says so, how to start one, and exits non-zero', async (_name, command, args) => {
    const r = await run(command, args as string[], nowhere);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/TPS Lab is not running from this checkout/);
    expect(r.out).toMatch(/`make up`/);
    expect(r.out).toMatch(/`docker-compose up -d`/);
  });

  it('still answers --help and the fault catalogue, which need no stack', async () => {
    expect((await run('bin/tps', ['status', '--help'], nowhere)).code).toBe(0);
    expect((await run('bin/tps', ['chaos', 'faults'], nowhere)).code).toBe(0);
  });
});

describe('make up MODE=compose preflight', () => {
  it('names Docker when it is not installed', async () => {
    // A PATH with the shell tools the script uses, and no docker.
    const bin = path.join(temp, 'bin-without-docker');
    mkdirSync(bin, { recursive: true });
    for (const tool of ['bash', 'dirname', 'sed', 'grep', 'cat', 'head', 'tail', 'awk', 'sort', 'tr', 'id', 'mkdir']) {
      const found = ['/usr/bin', '/bin'].map((d) => path.join(d, tool)).find((p) => { try { return statSync(p).isFile(); } catch { return false; } });
      if (found) symlinkSync(found, path.join(bin, tool));
    }
    const r = await run(path.join(bin, 'bash'), ['scripts/compose.sh', 'up'], { ...nowhere, PATH: bin, COMPOSE: '' });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/Docker is not installed.*or run natively without it: make up/);
  });

  it('says the daemon does not answer, and what to do', async () => {
    const r = await run('scripts/compose.sh', ['up'], { ...nowhere, COMPOSE: 'true' });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/the Docker daemon does not answer: .*Start it/);
  });

  it('names every host port that is taken and the variable that moves it', async () => {
    const held = net.createServer();
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    const busy = (held.address() as net.AddressInfo).port;
    try {
      const free = async () => String(await unusedPort());
      const env = {
        ...nowhere, TPS_INGRESS_PORT: String(busy), TPS_NATS_PORT: await free(), TPS_NATS_MONITOR_PORT: await free(), TPS_PROMETHEUS_PORT: await free(),
        TPS_GRAFANA_PORT: await free(), TPS_JAEGER_UI_PORT: await free(), TPS_OTLP_PORT: await free(), TPS_CONSOLE_PORT: await free(),
      };
      const r = await run('scripts/compose.sh', ['check-ports'], env);
      expect(r.code).toBe(1);
      expect(r.out).toContain(`${busy}: move it with TPS_INGRESS_PORT=<free port>`);
      expect(r.out.match(/move it with/g)).toHaveLength(1);
      const clear = await run('scripts/compose.sh', ['check-ports'], { ...env, TPS_INGRESS_PORT: await free() });
      expect(clear.code).toBe(0);
    } finally {
      held.close();
    }
  });
});

describe('.env', () => {
  it('works without one (the lab values), and refuses a malformed line or an unusable password, naming the line', async () => {
    const dir = checkout('env-check');
    const none = await run('scripts/compose.sh', ['check-env'], nowhere, dir);
    expect(none.code).toBe(0);
    expect(none.out).toMatch(/no \.env: the lab credentials apply \(tps-lab-<user>/);
    writeFileSync(path.join(dir, '.env'), 'NATS_PASSWORD_INGRESS=has space\nthis is not a setting\nTPS_NATS_PORT=70000\nNATS_PASSWORD_SERVICE=fine\n');
    const bad = await run('scripts/compose.sh', ['check-env'], nowhere, dir);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/\.env line 1: NATS_PASSWORD_INGRESS must be letters, digits/);
    expect(bad.out).toMatch(/\.env line 2 is not KEY=VALUE/);
    expect(bad.out).toMatch(/\.env line 3: TPS_NATS_PORT must be a port number, got '70000'/);
    writeFileSync(path.join(dir, '.env'), 'NATS_PASSWORD_SERVICE=fine\nSOMETHING_ELSE=1\n');
    const unknown = await run('scripts/compose.sh', ['check-env'], nowhere, dir);
    expect(unknown.code).toBe(0);
    expect(unknown.out).toMatch(/\.env line 2: SOMETHING_ELSE is not a setting of this stack/);
  });

  it('make compose-env writes random passwords once, privately, and completes an older .env without changing it', async () => {
    const dir = checkout('env-write');
    const first = await run('scripts/compose-env.sh', [], nowhere, dir);
    expect(first.code).toBe(0);
    const env = readFileSync(path.join(dir, '.env'), 'utf8');
    expect(statSync(path.join(dir, '.env')).mode & 0o777).toBe(0o600);
    for (const user of ['OPERATOR', 'INGRESS', 'WORKER_FAST', 'WORKER_SLOW', 'SERVICE', 'AUTOSCALER']) {
      expect(env).toMatch(new RegExp(`^NATS_PASSWORD_${user}=[A-Za-z0-9_-]{24}$`, 'm'));
    }
    expect(env).not.toMatch(/tps-lab-/);
    // An .env from before a user was added: the missing keys come in, the rest stays.
    writeFileSync(path.join(dir, '.env'), 'NATS_PASSWORD_OPERATOR=keep-me\n');
    chmodSync(path.join(dir, '.env'), 0o644);
    const completed = await run('scripts/compose-env.sh', [], nowhere, dir);
    expect(completed.code).toBe(0);
    expect(completed.out).toMatch(/added to .* NATS_PASSWORD_INGRESS .* GRAFANA_ADMIN_PASSWORD \(the rest is unchanged\)/);
    const after = readFileSync(path.join(dir, '.env'), 'utf8');
    expect(after).toMatch(/^NATS_PASSWORD_OPERATOR=keep-me$/m);
    expect(after).toMatch(/^NATS_PASSWORD_AUTOSCALER=/m);
    expect(statSync(path.join(dir, '.env')).mode & 0o777).toBe(0o600);
  });

  it('make compose-env ADMIN=1 turns the admin API on (a random token, the override file), keeping what is there; a short token is refused', async () => {
    const dir = checkout('env-admin');
    writeFileSync(path.join(dir, '.env'), 'NATS_PASSWORD_OPERATOR=keep-me\n');
    const admin = await run('scripts/compose-env.sh', [], { ...nowhere, ADMIN: '1' }, dir);
    expect(admin.code, admin.out).toBe(0);
    expect(admin.out).toMatch(/the admin API is on: sign in on the console .* with ADMIN_TOKEN from /);
    const env = readFileSync(path.join(dir, '.env'), 'utf8');
    expect(env).toMatch(/^NATS_PASSWORD_OPERATOR=keep-me$/m);
    expect(env).toMatch(/^ADMIN_TOKEN=[A-Za-z0-9_-]{48}$/m);
    expect(env).toMatch(/^COMPOSE_FILE=docker-compose\.yml:docker-compose\.admin\.yml$/m);
    expect((await run('scripts/compose.sh', ['check-env'], nowhere, dir)).out).not.toMatch(/is not a setting/);
    expect((await run('scripts/compose-env.sh', [], { ...nowhere, ADMIN: 'yes' }, dir)).code).toBe(2);
    writeFileSync(path.join(dir, '.env'), 'ADMIN_TOKEN=short\n');
    const short = await run('scripts/compose.sh', ['check-env'], nowhere, dir);
    expect(short.code).toBe(1);
    expect(short.out).toMatch(/\.env line 1: ADMIN_TOKEN must be at least 16 letters/);
  });

  it('make compose-env NATS=cluster names the cluster override (with the admin one when asked) and a route password; make up MODE=compose NATS=cluster needs it', async () => {
    const dir = checkout('env-cluster');
    copyFileSync(path.join(projectRoot, 'Makefile'), path.join(dir, 'Makefile'));
    const refused = await run('make', ['--no-print-directory', 'up', 'MODE=compose', 'NATS=cluster'], nowhere, dir);
    expect(refused.code).not.toBe(0);
    expect(refused.out).toMatch(/NATS=cluster in compose needs docker-compose\.cluster\.yml in COMPOSE_FILE.*make compose-env NATS=cluster/);
    const written = await run('scripts/compose-env.sh', [], { ...nowhere, NATS: 'cluster', ADMIN: '1' }, dir);
    expect(written.code, written.out).toBe(0);
    expect(written.out).toMatch(/NATS runs as three nodes/);
    const env = readFileSync(path.join(dir, '.env'), 'utf8');
    expect(env).toMatch(/^COMPOSE_FILE=docker-compose\.yml:docker-compose\.admin\.yml:docker-compose\.cluster\.yml$/m);
    expect(env).toMatch(/^NATS_PASSWORD_ROUTE=[A-Za-z0-9_-]{24}$/m);
    expect((await run('scripts/compose.sh', ['check-env'], nowhere, dir)).out).not.toMatch(/is not a setting/);
    // Past the cluster check, the preflight goes on to Docker (none answers here).
    const past = await run('make', ['--no-print-directory', 'up', 'MODE=compose', 'NATS=cluster'], { ...nowhere, COMPOSE: 'true' }, dir);
    expect(past.out).not.toMatch(/NATS=cluster in compose needs/);
    expect(past.out).toMatch(/the Docker daemon does not answer/);
    expect((await run('scripts/compose-env.sh', [], { ...nowhere, NATS: 'three' }, dir)).code).toBe(2);
  });
});
