// Where things live on disk, relative to the project root (not the caller's working directory).
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const projectRoot = path.resolve(import.meta.dirname, '..');
export const cliEntry = path.join(projectRoot, 'cli', 'main.ts');
/** Loaded with `node --import` before a role's own modules (see roleNodeArgs in services/registry.ts). */
export const telemetryPreload = pathToFileURL(path.join(projectRoot, 'platform', 'telemetry', 'preload.ts')).href;

/** The one ignored folder native mode keeps its logs and state in. */
export function stateDir(configured: string): string {
  return path.resolve(projectRoot, configured);
}
