// Secret hygiene (reliability matrix S17): every file the project writes credentials into is
// private to its owner (0600) as written by the real writers, git ignores it, and the Docker
// build context leaves it out. (compose's .env, written by scripts/compose-env.sh, is checked for
// its mode by tests/compose-preflight.test.ts; its ignore rules are checked here.)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '#platform/config.ts';
import { operatorEnvFile } from '#platform/nats/credentials.ts';
import { projectRoot } from '#platform/paths.ts';
import { ensureBroker } from '#operator/supervisor/broker.ts';
import { grafanaLogin, grafanaPasswordFile } from '#operator/supervisor/grafana-settings.ts';
import { unusedPort } from '#devenv/ports.ts';

const stateDir = mkdtempSync(path.join(os.tmpdir(), 'tps-secrets-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

/** Files holding credentials, as paths relative to the project root (the default TPS_STATE_DIR is .tps). */
const secrets = ['.env', '.tps/nats/nats.conf', '.tps/nats/operator.env', '.tps/grafana/admin-password'];

it('the supervisor writes its NATS users and the Grafana password readable by its owner only', async () => {
  const port = await unusedPort();
  mkdirSync(path.join(stateDir, 'logs'));
  const broker = await ensureBroker({ servers: [`nats://127.0.0.1:${port}`], urlGiven: true, external: false }, { stateDir, monitorPort: await unusedPort(), ownSession: false });
  try {
    grafanaLogin(stateDir, loadConfig({}).grafana);
    const written = [path.join(stateDir, 'nats', 'nats.conf'), operatorEnvFile(stateDir), grafanaPasswordFile(stateDir)];
    const modes = Object.fromEntries(written.map((f) => [path.relative(stateDir, f), (statSync(f).mode & 0o777).toString(8)]));
    expect(modes).toEqual({ 'nats/nats.conf': '600', 'nats/operator.env': '600', 'grafana/admin-password': '600' });
    expect(readFileSync(operatorEnvFile(stateDir), 'utf8')).toContain(`NATS_PASSWORD=${broker.passwords?.operator}`);
  } finally {
    await broker.managed?.stop(5_000);
  }
});

it('git ignores every file that holds credentials, and none is tracked', () => {
  const ignored = spawnSync('git', ['check-ignore', '--no-index', ...secrets], { cwd: projectRoot, encoding: 'utf8' });
  expect(ignored.stdout.trim().split('\n').sort()).toEqual([...secrets].sort());
  const tracked = spawnSync('git', ['ls-files', '--', '*.env', '.env', '*admin-password', '.tps'], { cwd: projectRoot, encoding: 'utf8' });
  // Two empty files keep the folders the compose console and tools container bind-mount in a clone (tests/compose.test.ts).
  expect(tracked.stdout.trim().split('\n')).toEqual(['.tps/compose/.gitkeep', '.tps/labs/.gitkeep']);
  for (const kept of ['.tps/compose/.gitkeep', '.tps/labs/.gitkeep']) expect(statSync(path.join(projectRoot, kept)).size).toBe(0);
});

/**
 * Whether .dockerignore leaves `file` out of the build context: Docker matches each pattern against
 * the path and against each of its parent folders (an ignored folder takes its contents), and the
 * last matching pattern wins (`!` takes a path back).
 */
function dockerIgnores(patterns: string[], file: string): boolean {
  const prefixes = file.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
  let excluded = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = path.posix.normalize((negated ? raw.slice(1) : raw).replace(/^\/+/, ''));
    if (prefixes.some((p) => path.matchesGlob(p, pattern))) excluded = !negated;
  }
  return excluded;
}

it('the Docker build context leaves every file that holds credentials out', () => {
  const patterns = readFileSync(path.join(projectRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  expect(secrets.filter((f) => !dockerIgnores(patterns, f))).toEqual([]);
  // The matcher itself: a file the image needs is not ignored.
  expect(dockerIgnores(patterns, 'platform/config.ts')).toBe(false);
});
