// A copy of this checkout (the files git tracks, and new ones it does not ignore) in a temporary
// folder, sharing node_modules, for tests that change the source the way a contributor would and
// then build and run the result.
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

export function copyProject(): ProjectCopy {
  const root = mkdtempSync(path.join(os.tmpdir(), 'tps-copy-'));
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: projectRoot, encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const file of files) {
    const from = path.join(projectRoot, file);
    if (!existsSync(from)) continue;
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    cpSync(from, path.join(root, file));
  }
  symlinkSync(path.join(projectRoot, 'node_modules'), path.join(root, 'node_modules'));
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
