// The size rules of docs/architecture.md ("Size"): no source file over 250 lines and no function
// over 60. Functions are measured from their first to their last line, inner functions included
// (a factory that returns ten closures is one long function); a `describe` callback is a container
// of tests like a module is of functions, so it is not measured, the tests inside it are.
// `node devenv/code-shape.ts [file...]` lists what breaks the rules; tests/code-shape.test.ts
// holds the tree to them. Parsed with rolldown's TypeScript parser (vitest's bundler), because
// TypeScript 7 ships no JavaScript API.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAst } from 'rolldown/parseAst';
import { projectRoot } from '#platform/paths.ts';

export const maxFileLines = 250;
export const maxFunctionLines = 60;

export type Oversize = { file: string; line: number; name: string; lines: number };

type Node = { type?: string; start: number; end: number; [key: string]: unknown };

const containers = new Set(['describe']);
const tests = new Set(['it', 'test']);

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && typeof (value as Node).type === 'string';
}

function calleeName(call: Node): string | undefined {
  let callee = call.callee as Node | undefined;
  while (callee?.type === 'MemberExpression') callee = callee.object as Node;
  return callee?.type === 'Identifier' ? (callee.name as string) : undefined;
}

/** Every function of one source text longer than the limit, with the name it is known by. */
export function longFunctions(file: string, text: string, limit = maxFunctionLines): Oversize[] {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const lineOf = (offset: number) => {
    let lo = 0, hi = lineStarts.length - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if ((lineStarts[mid] ?? 0) <= offset) lo = mid; else hi = mid - 1; }
    return lo + 1;
  };
  const found: Oversize[] = [];
  const visit = (value: unknown, name: string, exempt: Set<unknown>) => {
    if (Array.isArray(value)) { for (const v of value) visit(v, name, exempt); return; }
    if (!isNode(value)) return;
    const node = value;
    if (/Function/.test(node.type ?? '') && node.body && !exempt.has(node)) {
      const lines = lineOf(node.end) - lineOf(node.start) + 1;
      const id = (node.id as Node | null | undefined)?.name as string | undefined;
      if (lines > limit) found.push({ file, line: lineOf(node.start), name: id ?? name, lines });
    }
    let inner = name;
    if (node.type === 'VariableDeclarator' || node.type === 'FunctionDeclaration') inner = ((node.id as Node | null)?.name as string) ?? name;
    if (node.type === 'MethodDefinition' || node.type === 'Property' || node.type === 'PropertyDefinition') inner = ((node.key as Node | null)?.name as string) ?? name;
    let innerExempt = exempt;
    const called = node.type === 'CallExpression' ? calleeName(node) ?? '' : '';
    if (containers.has(called) || tests.has(called)) inner = `${called} ${JSON.stringify(((node.arguments as Node[])[0]?.value as string) ?? '')}`;
    if (containers.has(called)) innerExempt = new Set([...exempt, ...((node.arguments as unknown[]) ?? [])]);
    for (const key of Object.keys(node)) if (key !== 'type') visit(node[key], inner, innerExempt);
  };
  visit(parseAst(text, { lang: 'ts' }, file).body, '(anonymous)', new Set());
  return found;
}

/** Every TypeScript file of the project git knows (tracked or new and not ignored). */
export function sourceFiles(): string[] {
  return execFileSync('git', ['ls-files', '-co', '--exclude-standard', '*.ts'], { cwd: projectRoot, encoding: 'utf8' })
    .split('\n').filter(Boolean);
}

export function oversized(files = sourceFiles()): Oversize[] {
  const out: Oversize[] = [];
  for (const file of files) {
    let text: string;
    try { text = readFileSync(path.join(projectRoot, file), 'utf8'); } catch { continue; }
    const lines = text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
    if (lines > maxFileLines) out.push({ file, line: 1, name: '(file)', lines });
    out.push(...longFunctions(file, text));
  }
  return out.sort((a, b) => b.lines - a.lines);
}

if (import.meta.main) {
  const rows = oversized(process.argv.length > 2 ? process.argv.slice(2) : undefined);
  for (const r of rows) console.log(`${String(r.lines).padStart(4)}  ${r.file}:${r.line}  ${r.name}`);
  console.log(rows.length ? `${rows.length} over the limits (files ${maxFileLines} lines, functions ${maxFunctionLines})` : 'every file and function within the limits');
  process.exitCode = rows.length ? 1 : 0;
}
