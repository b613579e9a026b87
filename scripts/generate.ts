// `make generate`: writes every file generated from the role, pool, permission and monitoring
// tables (scripts/generated-files.ts). `--check` writes nothing and exits 1 naming what is stale.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '#platform/paths.ts';
import { generatedFiles, staleFiles } from './generated-files.ts';

function main(argv: string[]): number {
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    console.error(`generate: unknown argument ${unknown.join(' ')}; usage: node scripts/generate.ts [--check]`);
    return 2;
  }
  const stale = staleFiles(projectRoot);
  if (argv.includes('--check')) {
    if (stale.length > 0) console.error(`generate: out of date (run \`make generate\`): ${stale.join(', ')}`);
    else console.log('generate: every generated file is up to date');
    return stale.length > 0 ? 1 : 0;
  }
  const files = generatedFiles(projectRoot);
  for (const file of stale) {
    const full = path.join(projectRoot, file);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, files[file] ?? '');
  }
  console.log(stale.length ? `generate: wrote ${stale.join(', ')}` : 'generate: every generated file is up to date');
  return 0;
}

process.exitCode = main(process.argv.slice(2));
