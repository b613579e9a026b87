// Writes the Prometheus rule files and Grafana dashboards generated from monitoring/.
// `--check` only reports files that differ (exit 1), for CI and tests.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '#platform/paths.ts';
import { generatedFiles } from './generated-files.ts';

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const stale: string[] = [];
  for (const [file, text] of Object.entries(generatedFiles())) {
    const full = path.join(projectRoot, file);
    if (existsSync(full) && readFileSync(full, 'utf8') === text) continue;
    stale.push(file);
    if (check) continue;
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, text);
  }
  if (check && stale.length > 0) {
    console.error(`out of date (run \`node monitoring/generate.ts\`): ${stale.join(', ')}`);
    return 1;
  }
  console.log(stale.length ? `wrote ${stale.join(', ')}` : 'all generated monitoring files are up to date');
  return 0;
}

process.exitCode = main(process.argv.slice(2));
