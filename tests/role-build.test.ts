// The roles' build (operator/supervisor/role-build.ts): one per state of the sources, made whole or
// not at all when several processes ask at once, reused while nothing changes, and runnable. The
// stacks of every other test file run their roles from it.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseRoleBuild, ensureRoleBuild, sourceStamp } from '#operator/supervisor/role-build.ts';
import { loadConfig } from '#platform/config.ts';

const run = promisify(execFile);
/** The test's own folders, removed after. */
const made: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
};
afterAll(() => { for (const dir of made) rmSync(dir, { recursive: true, force: true }); });

describe('sourceStamp', () => {
  it('is the same for the same files and changes when one of them changes', () => {
    const root = tempDir('tps-stamp-');
    mkdirSync(path.join(root, 'platform'));
    writeFileSync(path.join(root, 'package.json'), '{}');
    const file = path.join(root, 'platform', 'a.ts');
    writeFileSync(file, 'export const a = 1;\n');
    utimesSync(file, 1_700_000_000, 1_700_000_000);
    const first = sourceStamp(root);
    expect(sourceStamp(root)).toBe(first);
    utimesSync(file, 1_700_000_001, 1_700_000_001);
    expect(sourceStamp(root)).not.toBe(first);
    writeFileSync(path.join(root, 'platform', 'b.ts'), '');
    expect(new Set([first, sourceStamp(root)]).size).toBe(2);
  });
});

describe('ensureRoleBuild', () => {
  it('makes one build when asked twice at once, reuses it, and the build runs', async () => {
    const builds = tempDir('tps-builds-');
    const [a, b] = await Promise.all([ensureRoleBuild(builds), ensureRoleBuild(builds)]);
    // The second ask waits for the first's build: two builds into one folder raced (the first's
    // rename took the folder from under the second, which failed writing its files).
    expect(a).toBe(b);
    expect(a.note).toMatch(/^roles built into /);
    expect(readdirSync(builds)).toEqual([sourceStamp()]);
    const again = await ensureRoleBuild(builds);
    expect(again.note).toMatch(/^roles run from their build /);
    // The bundled CLI answers as the source does, the preload loaded first as the supervisor loads it.
    const { stdout } = await run(process.execPath, ['--import', again.preload, again.main, 'run', '--help']);
    expect(stdout).toMatch(/usage: tps run/);
  }, 60_000);

  it('says in one line why a build failed, from the process that made it', async () => {
    const bundler = path.join(import.meta.dirname, '..', 'operator', 'supervisor', 'role-bundle.ts');
    const failed = await run(process.execPath, ['--disable-warning=ExperimentalWarning', bundler, '/dev/null/roles']).then(() => undefined, (err: { code: number; stderr: string }) => err);
    expect(failed?.code).toBe(1);
    expect(failed?.stderr.trim()).toBe('Could not create directory for output chunks: /dev/null/roles; Not a directory (os error 20)');
  });

  it('is not used with TPS_ROLE_BUILD=off, which the supervisor says; other values are refused', async () => {
    const config = loadConfig({ TPS_ROLE_BUILD: 'off' });
    const said: string[] = [];
    expect(await chooseRoleBuild(config.roleBuild, (line) => said.push(line))).toBeUndefined();
    expect(said).toEqual(['roles run from source (TPS_ROLE_BUILD=off)']);
    expect(loadConfig({}).roleBuild).toBe(true);
    expect(() => loadConfig({ TPS_ROLE_BUILD: 'maybe' })).toThrow(/TPS_ROLE_BUILD.*expected on or off/);
  });
});
