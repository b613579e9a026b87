// The roles `tps up` starts run from one bundle of their code (rolldown: cli/main.ts and the
// telemetry preload as two entries sharing chunks) instead of a few hundred TypeScript modules
// each: an idle role takes 11-17 MB less memory (docs/benchmarks.md#memory-at-rest-make-bench-memory).
// The build is kept in .tps/build/roles/<stamp>/, the stamp a hash of every source file's path,
// size and modification time and of the dependency lock: any change to the code makes a new one
// (about a second, in a process of its own: role-bundle.ts), an unchanged tree reuses it. A build
// is written to a folder of its own and renamed into place whole, so processes that build at once
// (test files in parallel) never see half of one. TPS_ROLE_BUILD=off runs the roles from source,
// as `tps run` always does.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '#platform/paths.ts';

export type RoleBuild = {
  /** The bundled `cli/main.ts`. */
  main: string;
  /** The bundled telemetry preload, for `node --import` (a file URL). */
  preload: string;
  /** What the supervisor says about it. */
  note: string;
};

/** The folders whose TypeScript the roles are made of (devenv, tests and bench are not). */
const sourceDirs = ['cli', 'platform', 'services', 'workers', 'operator', 'chaos', 'loadgen', 'labs'];
const defaultBuildsDir = path.join(projectRoot, '.tps', 'build', 'roles');
/** Builds kept besides the newest: a stack still running may load a chunk of its own later. */
const keep = 3;

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(full, out);
    else if (entry.name.endsWith('.ts')) out.push(full);
  }
  return out;
}

/** A hash of the sources and the dependency lock as they are on disk now. */
export function sourceStamp(root = projectRoot): string {
  const hash = createHash('sha256');
  const files = sourceDirs.flatMap((d) => (existsSync(path.join(root, d)) ? sourceFiles(path.join(root, d)) : []))
    .concat(['package.json', 'package-lock.json'].map((f) => path.join(root, f)).filter(existsSync)).sort();
  for (const file of files) {
    const s = statSync(file);
    hash.update(`${path.relative(root, file)}\0${s.size}\0${s.mtimeMs}\n`);
  }
  return hash.digest('hex').slice(0, 16);
}

function builtAt(dir: string): RoleBuild {
  return { main: path.join(dir, 'main.js'), preload: pathToFileURL(path.join(dir, 'preload.js')).href, note: '' };
}

/** Builds under way in this process, by folder: a second ask waits for the first's. */
const building = new Map<string, Promise<RoleBuild>>();

/** The build of the sources as they are now, made first when there is none. */
export async function ensureRoleBuild(buildsDir = defaultBuildsDir): Promise<RoleBuild> {
  const stamp = sourceStamp();
  const dir = path.join(buildsDir, stamp);
  const shown = path.relative(projectRoot, dir);
  if (existsSync(dir)) return { ...builtAt(dir), note: `roles run from their build ${shown} (TPS_ROLE_BUILD=off: from source)` };
  const under = building.get(dir);
  if (under) return under;
  const made = makeBuild(buildsDir, stamp).finally(() => building.delete(dir));
  building.set(dir, made);
  return made;
}

async function makeBuild(buildsDir: string, stamp: string): Promise<RoleBuild> {
  const dir = path.join(buildsDir, stamp);
  const shown = path.relative(projectRoot, dir);
  const started = Date.now();
  // A folder of this build's own: two builds into one folder (the same process asking twice at
  // once, as a test starting two stacks does) would have the first's rename pull it from under the
  // second, which then fails writing its files.
  const temp = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  mkdirSync(buildsDir, { recursive: true });
  rmSync(temp, { recursive: true, force: true });
  await bundleInAChild(temp);
  try {
    renameSync(temp, dir);
  } catch (err) {
    // Another process built the same stamp first: its build is the same; use it.
    rmSync(temp, { recursive: true, force: true });
    if (!existsSync(dir)) throw err;
  }
  prune(buildsDir, stamp);
  return { ...builtAt(dir), note: `roles built into ${shown} in ${((Date.now() - started) / 1000).toFixed(1)} s (TPS_ROLE_BUILD=off: from source)` };
}

/** Runs role-bundle.ts into `out` in a process of its own (its memory goes with it); throws with what it said. */
async function bundleInAChild(out: string): Promise<void> {
  const script = path.join(projectRoot, 'operator', 'supervisor', 'role-bundle.ts');
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', script, out], { stdio: ['ignore', 'ignore', 'pipe'] });
  let said = '';
  child.stderr.on('data', (d: Buffer) => { said = (said + d.toString()).slice(-4000); });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c, s) => resolve([c, s]));
  });
  if (code !== 0) {
    rmSync(out, { recursive: true, force: true });
    throw new Error(said.trim() || `the bundler ended with ${signal ?? `exit ${code}`}`);
  }
}

/** Removes all but the newest builds (and leftovers of builds that died half-way). */
function prune(buildsDir: string, current: string): void {
  const entries = readdirSync(buildsDir).map((name) => ({ name, mtime: statSync(path.join(buildsDir, name)).mtimeMs }));
  const builds = entries.filter((e) => /^[0-9a-f]{16}$/.test(e.name) && e.name !== current).sort((a, b) => b.mtime - a.mtime);
  for (const old of builds.slice(keep)) rmSync(path.join(buildsDir, old.name), { recursive: true, force: true });
  const hourAgo = Date.now() - 3_600_000;
  for (const e of entries) if (e.name.endsWith('.tmp') && e.mtime < hourAgo) rmSync(path.join(buildsDir, e.name), { recursive: true, force: true });
}

/** The roles' build for a supervisor, said in its output; from source when it cannot be made, saying why. */
export async function chooseRoleBuild(enabled: boolean, say: (line: string) => void): Promise<RoleBuild | undefined> {
  if (!enabled) {
    say('roles run from source (TPS_ROLE_BUILD=off)');
    return undefined;
  }
  try {
    const build = await ensureRoleBuild();
    say(build.note);
    return build;
  } catch (err) {
    say(`roles run from source: their build failed (${(err as Error).message.split('\n')[0]})`);
    return undefined;
  }
}
