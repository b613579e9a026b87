// The image installs production dependencies only (`npm ci --omit=dev` in the Dockerfile), so every
// package the shipped code imports must be a production dependency in package.json and in the
// lockfile. A package listed in both sections once stayed `dev: true` in the lock, and
// `tps chaos run` failed inside the compose stack with "Cannot find package 'yaml'" (found by
// make test-compose); this catches the next one without Docker.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { expect, it } from 'vitest';
import { projectRoot } from '#platform/paths.ts';

/** What the image holds: everything but what .dockerignore leaves out. */
function shippedSources(): string[] {
  const ignored = readFileSync(path.join(projectRoot, '.dockerignore'), 'utf8').split('\n')
    .map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      const rel = path.relative(projectRoot, full);
      if (name === 'node_modules' || ignored.some((i) => rel === i || rel.startsWith(`${i}/`) || (i.startsWith('*') && rel.endsWith(i.slice(1))))) continue;
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.(ts|js|mjs)$/.test(name)) out.push(full);
    }
  };
  walk(projectRoot);
  return out;
}

const packageOf = (specifier: string) => (specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0] ?? specifier);
const builtin = (name: string) => name.startsWith('node:') || builtinModules.includes(name);

it('every package the shipped code imports is a production dependency, in package.json and the lockfile', () => {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  const lock = JSON.parse(readFileSync(path.join(projectRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const imported = new Map<string, string>();
  for (const file of shippedSources()) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"./#][^'"]*)['"]/g)) {
      const name = packageOf(m[1] ?? '');
      if (!builtin(name)) imported.set(name, path.relative(projectRoot, file));
    }
  }
  expect(imported.size).toBeGreaterThan(5);
  const problems = [...imported].flatMap(([name, file]) => [
    ...(pkg.dependencies[name] ? [] : [`${name} (imported by ${file}) is not in dependencies`]),
    ...(pkg.devDependencies[name] ? [`${name} is in devDependencies too`] : []),
    ...(lock.packages[`node_modules/${name}`]?.dev ? [`${name} is dev-only in package-lock.json (run npm install --package-lock-only)`] : []),
  ]);
  expect(problems).toEqual([]);
});
