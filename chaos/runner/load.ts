// Reads scenario files: YAML, validated by the schema and planned once at speed 1 (so the fault
// catalogue's limits are checked too). Every problem names the file, the line and the field.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isCollection, LineCounter, parseDocument, type Document } from 'yaml';
import { projectRoot } from '#platform/paths.ts';
import { PlanError, planTimeline } from './plan.ts';
import { scenarioSchema, type Scenario } from './schema.ts';

export const scenarioDir = path.join(projectRoot, 'chaos', 'scenarios');

export class ScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}

/** The line of the deepest node that exists on `where` (a missing field points at its parent). */
function lineOf(doc: Document, lines: LineCounter, where: ReadonlyArray<PropertyKey>): number | undefined {
  for (let depth = where.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(where.slice(0, depth) as unknown[], true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return lines.linePos(range[0]).line;
  }
  return undefined;
}

const field = (where: ReadonlyArray<PropertyKey>) => where.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('') || '(top level)';

export function parseScenario(text: string, file: string): Scenario {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const [yamlError] = doc.errors;
  if (yamlError) throw new ScenarioError(`${file}:${lines.linePos(yamlError.pos[0]).line}: not valid YAML: ${yamlError.message.split('\n')[0]}`);
  if (!isCollection(doc.contents)) throw new ScenarioError(`${file}: expected a mapping with name, description, reference and steps`);
  const parsed = scenarioSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${file}:${lineOf(doc, lines, i.path) ?? '?'}: ${field(i.path)}: ${i.message}`);
    throw new ScenarioError(problems.join('\n'));
  }
  const scenario = { ...parsed.data, file };
  try {
    planTimeline(scenario, 1);
  } catch (err) {
    if (!(err instanceof PlanError)) throw err;
    const where = ['steps', err.step, 'set'];
    throw new ScenarioError(`${file}:${lineOf(doc, lines, where) ?? '?'}: ${field(where)}: ${err.message}`);
  }
  return scenario;
}

export function loadScenarioFile(file: string): Scenario {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (err) {
    throw new ScenarioError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseScenario(text, file);
}

export function shippedScenarioFiles(dir = scenarioDir): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join(dir, f));
}

/** A shipped scenario by name (`cascade-3-1`), or a path to a file (anything with a / or .yaml). */
export function resolveScenario(nameOrFile: string, dir = scenarioDir): Scenario {
  if (nameOrFile.includes('/') || nameOrFile.endsWith('.yaml') || nameOrFile.endsWith('.yml')) return loadScenarioFile(path.resolve(nameOrFile));
  const scenarios = shippedScenarioFiles(dir).map(loadScenarioFile);
  const found = scenarios.find((s) => s.name === nameOrFile);
  if (!found) throw new ScenarioError(`no scenario named "${nameOrFile}"; shipped scenarios: ${scenarios.map((s) => s.name).join(', ')} (or give a path to a .yaml file)`);
  return found;
}
