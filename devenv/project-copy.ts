// A copy of this checkout (the files git tracks, and new ones it does not ignore) in a temporary
// folder, sharing node_modules, for tests that change the source the way a contributor would and
// then build and run the result, or that run it from a folder a user might have (spaces in its path).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, existsSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '#platform/paths.ts';

export type ProjectCopy = {
  readonly root: string;
  read(file: string): string;
  /** Puts `text` on its own lines before the first line of `file` equal to `anchor` (trimmed). */
  insertBefore(file: string, anchor: string, text: string): void;
};

export type CopyOptions = {
  /** The copy's own folder inside the temporary one, e.g. 'my clone' for a path with a space. */
  folder?: string;
};

export function copyProject(options: CopyOptions = {}): ProjectCopy {
  const root = path.join(mkdtempSync(path.join(os.tmpdir(), 'tps-copy-')), options.folder ?? '');
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: projectRoot, encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const file of files) {
    const from = path.join(projectRoot, file);
    if (!existsSync(from)) continue;
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    // Times kept: a package-lock.json newer than node_modules would have bootstrap reinstall the shared packages.
    cpSync(from, path.join(root, file), { preserveTimestamps: true });
  }
  symlinkSync(path.join(projectRoot, 'node_modules'), path.join(root, 'node_modules'));
  // Node 24 where bootstrap put it, so a `make` target in the copy finds it instead of installing it again.
  if (existsSync(path.join(projectRoot, '.tools'))) symlinkSync(path.join(projectRoot, '.tools'), path.join(root, '.tools'));
  const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
  return {
    root,
    read,
    insertBefore(file, anchor, text) {
      const lines = read(file).split('\n');
      const at = lines.findIndex((l) => l.trim() === anchor);
      if (at < 0) throw new Error(`${file} has no line "${anchor}"`);
      lines.splice(at, 0, ...text.replace(/\n$/, '').split('\n'));
      writeFileSync(path.join(root, file), lines.join('\n'));
    },
  };
}
