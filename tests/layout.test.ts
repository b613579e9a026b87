// The tree is what docs/architecture.md section 12 says: every top-level folder of code is in its
// table, every import stays within what its folder may import, and no module imports itself back
// (an import cycle). The table in the doc is the rule; this test reads it.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { projectRoot } from '#platform/paths.ts';

type Rule = { folder: string; mayImport: 'everything' | Set<string> };

function rules(): Rule[] {
  const doc = readFileSync(path.join(projectRoot, 'docs', 'architecture.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## 12.'), doc.indexOf('\n## ', doc.indexOf('## 12.') + 5));
  return [...section.matchAll(/^\| `([\w-]+)\/` \| .* \| ([^|]+) \|$/gm)].map((m) => {
    const allowed = (m[2] ?? '').trim();
    if (allowed === 'everything') return { folder: m[1] ?? '', mayImport: 'everything' as const };
    const but = /^everything but (.+)$/.exec(allowed);
    const all = ['platform', 'workers', 'services', 'chaos', 'loadgen', 'operator', 'monitoring', 'cli', 'scripts', 'devenv', 'tests', 'bench'];
    const names = but ? all.filter((f) => !(but[1] ?? '').split(/,\s*/).includes(f)) : allowed.split(/,\s*/);
    return { folder: m[1] ?? '', mayImport: new Set(names) };
  });
}

function sources(): string[] {
  return execFileSync('git', ['ls-files', '-co', '--exclude-standard', '*.ts'], { cwd: projectRoot, encoding: 'utf8' })
    .split('\n').filter((f) => f && existsSync(path.join(projectRoot, f)));
}

/** Every module a file imports, as a path from the project root (packages and node: left out). */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(projectRoot, file), 'utf8');
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([.#][^'"]+)['"]/g)].map((m) => {
    const spec = m[1] ?? '';
    return spec.startsWith('#') ? spec.slice(1) : path.normalize(path.join(path.dirname(file), spec));
  });
}

it('every top-level folder of code is in the table of docs/architecture.md, and every folder there exists', () => {
  const listed = rules().map((r) => r.folder).sort();
  const present = [...new Set(sources().filter((f) => f.includes('/')).map((f) => f.split('/')[0] ?? ''))].sort();
  expect(present).toEqual(listed);
});

it('every import stays within what its folder may import', () => {
  const table = new Map(rules().map((r) => [r.folder, r.mayImport]));
  const wrong: string[] = [];
  for (const file of sources()) {
    const from = file.split('/')[0] ?? '';
    const may = table.get(from);
    if (!may || may === 'everything') continue;
    for (const target of importsOf(file)) {
      const to = target.split('/')[0] ?? '';
      if (!may.has(to)) wrong.push(`${file} imports ${target} (${from}/ may import ${[...may].join(', ')})`);
    }
  }
  expect(wrong).toEqual([]);
});

it('has no import cycle', () => {
  const graph = new Map(sources().map((f) => [f, importsOf(f)]));
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, trail: string[]) => {
    state.set(file, 'open');
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...trail.slice(trail.indexOf(next)), file, next].join(' -> '));
      else if (!state.has(next) && graph.has(next)) visit(next, [...trail, file]);
    }
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file, []);
  expect(cycles).toEqual([]);
});

// An ES module import of node:http, or undici's index, costs every process 13-16 MB of memory
// for parts no role uses (platform/http/node-http.ts and undici-pool.ts say why); the product's
// modules take them from those two. Types may still come from anywhere.
it.each([
  ['node:http', 'platform/http/node-http.ts', /^import\s+(?!type\b)[^;]*from\s+['"](node:)?https?['"]/m],
  ['undici', 'platform/http/undici-pool.ts', /^import\s+(?!type\b)[^;]*from\s+['"]undici['"]/m],
] as const)('takes %s from %s only', (_module, home, valueImport) => {
  const product = sources().filter((f) => !/^(tests|devenv|bench)\//.test(f) && f !== home);
  expect(product.filter((f) => valueImport.test(readFileSync(path.join(projectRoot, f), 'utf8')))).toEqual([]);
});
