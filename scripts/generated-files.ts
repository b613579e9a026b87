// Every file, or block of a file, generated from the TypeScript tables, by path from the project
// root: what cannot import TypeScript (nats.conf, the compose file, Prometheus' configuration, the
// shell scripts of make) gets the tables written out, and the monitoring code its rules and
// dashboards. `make generate` writes them; tests/generated-files.test.ts fails when one is stale.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { generatedFiles as monitoringFiles } from '#monitoring/generated-files.ts';
import { labBrief } from '#operator/labs/brief.ts';
import { labCatalogue } from '#operator/labs/catalogue.ts';
import { renderComposeNatsConfig } from '#platform/nats/server-config.ts';
import { parameterCatalogue, show } from '#platform/params/catalogue.ts';
import { replaceBlock } from './generate/blocks.ts';
import { clusterWorkerLines, envExampleLines, natsPasswordLines, targetsLine, workerServiceLines } from './generate/compose.ts';
import { configLiterals, kubernetesFiles, labPasswordLiterals } from './generate/kubernetes.ts';
import { scrapeJobLines } from './generate/prometheus.ts';
import { shellContract } from './generate/shell.ts';

type Blocks = Readonly<Record<string, readonly string[]>>;

/** Files the generator owns whole. */
function wholeFiles(): Record<string, string> {
  return {
    ...monitoringFiles(),
    'nats/nats.conf': renderComposeNatsConfig(),
    'scripts/contract.sh': shellContract(),
    ...kubernetesFiles(),
  };
}

/** Hand-written files with generated blocks, by block name. */
function blockFiles(): Record<string, Blocks> {
  return {
    'docker-compose.yml': {
      'nats passwords': natsPasswordLines('      '),
      'worker services': workerServiceLines(),
      'scrape targets': targetsLine('    '),
    },
    'docker-compose.cluster.yml': { 'nats passwords': natsPasswordLines('  '), 'worker services': clusterWorkerLines() },
    'compose.env.example': { 'nats passwords': envExampleLines() },
    'deploy/kubernetes/base/kustomization.yaml': { 'tps config': configLiterals('      ') },
    'deploy/kubernetes/overlays/lab/kustomization.yaml': { 'lab passwords': labPasswordLiterals('      ') },
    'prometheus/prometheus.yml': { 'scrape jobs': scrapeJobLines() },
    'docs/live-parameters.md': { parameters: parameterTable() },
    // Each lab's page shows what `tps lab start` prints.
    ...Object.fromEntries(labCatalogue().map((lab) => [lab.doc, { 'lab brief': ['```text', ...labBrief(lab).split('\n'), '```'] }])),
  };
}

/** The live parameters' table, from their catalogue. */
function parameterTable(): string[] {
  return [
    '| Parameter | Range | Start-up value from | Applied by | What it is |',
    '|---|---|---|---|---|',
    ...parameterCatalogue.map((p) => `| \`${p.name}\` | ${show(p, p.min)} to ${show(p, p.max)} | \`${p.env}\` | ${p.appliesTo} | ${p.description} |`),
  ];
}

/** What every generated file should hold, given the hand-written parts as they are in `root`. */
export function generatedFiles(root: string): Record<string, string> {
  const files = wholeFiles();
  for (const [file, blocks] of Object.entries(blockFiles())) {
    let text = readFileSync(path.join(root, file), 'utf8');
    for (const [name, lines] of Object.entries(blocks)) text = replaceBlock(file, text, name, lines);
    files[file] = text;
  }
  return files;
}

/** The generated files that differ from what `make generate` would write. */
export function staleFiles(root: string): string[] {
  return Object.entries(generatedFiles(root)).filter(([file, text]) => {
    try { return readFileSync(path.join(root, file), 'utf8') !== text; } catch { return true; }
  }).map(([file]) => file);
}
