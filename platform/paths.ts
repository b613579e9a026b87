// Where things live on disk, relative to the project root (not the caller's working directory).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The nearest folder up from here with a package.json: `..` from platform/, and also from a
 * role build's chunk in .tps/build/roles/<stamp>/ (operator/supervisor/role-build.ts). */
function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '..');
  }
}

export const projectRoot = findProjectRoot(import.meta.dirname);
export const cliEntry = path.join(projectRoot, 'cli', 'main.ts');
/** Loaded with `node --import` before a role's own modules (see roleNodeArgs in services/registry.ts). */
export const telemetryPreload = pathToFileURL(path.join(projectRoot, 'platform', 'telemetry', 'preload.ts')).href;

/** The one ignored folder native mode keeps its logs and state in. */
export function stateDir(configured: string): string {
  return path.resolve(projectRoot, configured);
}
