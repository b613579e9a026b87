// Every lab of the program: the YAML files in labs/, validated against lab-schema.ts. Adding a
// lab is adding a file there (and its page in docs/labs/).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { findJobType, jobTypeNames } from '#platform/job-catalogue.ts';
import { projectRoot } from '#platform/paths.ts';
import { labSchema, type Lab } from './lab-schema.ts';
import { timelineReferences } from './timeline-references.ts';

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
  const problems = [...crossReferences(parsed.data), ...timelineReferences(parsed.data)];
  if (problems.length > 0) throw new LabFileError(file, problems);
  return parsed.data;
}

/** What the schema cannot see: names that must point at a setup choice or at another check. */
function crossReferences(lab: Lab): string[] {
  const choices = Object.keys(lab.setup.choose);
  const check = (id: string) => lab.checks.find((c) => c.id === id);
  const problems: string[] = [];
  for (const c of lab.checks) {
    for (const p of c.probe.kind === 'all' ? c.probe.of : [c.probe]) {
      if (p.kind === 'answer' && p.truth !== undefined && !choices.includes(p.truth)) problems.push(`checks.${c.id}: truth "${p.truth}" is not a setup choice`);
      if (p.kind === 'held' && !check(p.check)?.latch) problems.push(`checks.${c.id}: held "${p.check}" must name a check with latch: true`);
      if (p.kind === 'event' && p.after !== undefined) {
        const before = check(p.after);
        if (before?.probe.kind !== 'event' && !before?.latch) problems.push(`checks.${c.id}: after "${p.after}" must name an event check or a check with latch: true`);
      }
    }
  }
  for (const [i, j] of [...lab.setup.submit, ...lab.setup.deadLetters].entries()) {
    if (!findJobType(j.type)) problems.push(`setup: ${i < lab.setup.submit.length ? 'submit' : 'deadLetters'} type "${j.type}" is not a job type (${jobTypeNames.join(', ')})`);
  }
  for (const f of lab.setup.faults) if (f.target.startsWith('$') && !choices.includes(f.target.slice(1))) problems.push(`setup.faults: ${f.target} is not a setup choice`);
  for (const s of lab.solve) {
    if (s.do === 'answer' && (s.from === undefined) === (s.value === undefined)) problems.push(`solve: answer ${s.key} needs either from (a setup choice) or value`);
    if (s.do === 'answer' && s.from !== undefined && !choices.includes(s.from)) problems.push(`solve: answer ${s.key}: the choice "${s.from}" is not a setup choice`);
  }
  return problems;
}

/** Every lab, in program order (2.1, 2.2, ..., 3.1, ...). */
export function labCatalogue(dir = labsDir): Lab[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  return files.map((f) => parseLab(f, readFileSync(path.join(dir, f), 'utf8')))
    .sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
}

/**
 * One lab by its id. Read from its own file when it is where the catalogue's naming puts it
 * (lab-2.1.yaml, exam-2.yaml): every `tps lab` / `tps exam` command and every lab page of the
 * console asks for one, and parsing all fifteen files took a fifth of a second each time.
 */
export function findLab(id: string, dir = labsDir): Lab | undefined {
  for (const file of [`lab-${id}.yaml`, `${id}.yaml`]) {
    if (!/^[a-z0-9.-]+$/.test(id) || !existsSync(path.join(dir, file))) continue;
    const lab = parseLab(file, readFileSync(path.join(dir, file), 'utf8'));
    if (lab.id === id) return lab;
  }
  return labCatalogue(dir).find((l) => l.id === id);
}
