// Every lab of the program: the YAML files in labs/, validated against lab-schema.ts. Adding a
// lab is adding a file there (and its page in docs/labs/).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from '#platform/paths.ts';
import { labSchema, type Lab } from './lab-schema.ts';

export const labsDir = path.join(projectRoot, 'labs');

export class LabFileError extends Error {
  constructor(file: string, problems: string[]) {
    super(`labs/${file} is not a valid lab:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'LabFileError';
  }
}

export function parseLab(file: string, text: string): Lab {
  const parsed = labSchema.safeParse(parse(text));
  if (!parsed.success) throw new LabFileError(file, parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`));
  const lab = parsed.data;
  const choices = Object.keys(lab.setup.choose);
  const problems = [
    ...lab.checks.filter((c) => c.probe.kind === 'answer' && !choices.includes(c.probe.truth)).map((c) => `checks.${c.id}: truth "${c.probe.kind === 'answer' ? c.probe.truth : ''}" is not a setup choice`),
    ...lab.setup.faults.filter((f) => f.target.startsWith('$') && !choices.includes(f.target.slice(1))).map((f) => `setup.faults: ${f.target} is not a setup choice`),
  ];
  if (problems.length > 0) throw new LabFileError(file, problems);
  return lab;
}

/** Every lab, in program order (2.1, 2.2, ..., 3.1, ...). */
export function labCatalogue(dir = labsDir): Lab[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  return files.map((f) => parseLab(f, readFileSync(path.join(dir, f), 'utf8')))
    .sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
}

export function findLab(id: string, dir = labsDir): Lab | undefined {
  return labCatalogue(dir).find((l) => l.id === id);
}
