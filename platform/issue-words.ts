// What is wrong with an input, in the words of the value that was given: `ms must be at most 120000
// (got 999999)`, `type is required`, `payload must be an object (got "x")`, `unknown field
// "priority"`, rather than zod's "Invalid input: expected number, received NaN". One home for every
// boundary that refuses an input by a schema: CLI flags, HTTP bodies, a fault's parameters. A
// schema's own message (a refine, a custom `min` text) says it best and is kept as it is.
import type { z } from 'zod';

export type IssueWording = {
  /** How a path is named: `--rate` for a flag, `payload.rows` for a body field. */
  name?: (path: readonly PropertyKey[]) => string;
  /** The name of the whole input, for an issue at its root (default "input"). */
  root?: string;
  /** What a key of the input is called in "unknown field ..." (default "field"). */
  key?: string;
};

const zodDefault = /^(Invalid input|Invalid option|Too small|Too big|Unrecognized key)/;

/** Every issue of `error`, each in words, joined with "; ". */
export function describeIssues(error: z.ZodError, input: unknown, wording: IssueWording = {}): string {
  return error.issues.map((issue) => describeIssue(issue, input, wording)).join('; ');
}

export function describeIssue(issue: z.core.$ZodIssue, input: unknown, wording: IssueWording = {}): string {
  const name = issue.path.length ? (wording.name ?? ((p) => p.map(String).join('.')))(issue.path) : (wording.root ?? 'input');
  if (!zodDefault.test(issue.message)) return `${name}: ${issue.message}`;
  const given = valueAt(input, issue.path);
  const got = ` (got ${shown(given)})`;
  switch (issue.code) {
    case 'invalid_type':
      return given === undefined ? `${name} is required` : `${name} must be ${article(issue.expected)}${got}`;
    case 'too_small':
      return `${name} must be ${sizeWords(issue.origin, issue.inclusive ? 'at least' : 'more than', issue.minimum)}${got}`;
    case 'too_big':
      return `${name} must be ${sizeWords(issue.origin, issue.inclusive ? 'at most' : 'less than', issue.maximum)}${got}`;
    case 'unrecognized_keys':
      return `unknown ${wording.key ?? 'field'}${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}${issue.path.length ? ` in ${name}` : ''}`;
    case 'invalid_value':
      return `${name} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${got}`;
    default:
      return `${name}: ${issue.message}`;
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let at = input;
  for (const key of path) at = at !== null && typeof at === 'object' ? (at as Record<PropertyKey, unknown>)[key] : undefined;
  return at;
}

/** A given value as a reader would type it; an object or array by its kind, not its contents. */
function shown(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'an object';
  if (typeof value === 'number' && Number.isNaN(value)) return 'not a number';
  return JSON.stringify(value) ?? String(value);
}

function article(expected: string): string {
  const words: Record<string, string> = { object: 'an object', record: 'an object', array: 'a list', int: 'a whole number', nan: 'not a number' };
  return words[expected] ?? `a ${expected}`;
}

function sizeWords(origin: string, bound: string, limit: number | bigint): string {
  const n = String(limit);
  if (origin === 'string') return `${bound} ${n} character${n === '1' ? '' : 's'} long`;
  if (origin === 'array' || origin === 'set') return `${bound} ${n} item${n === '1' ? '' : 's'}`;
  return `${bound} ${n}`;
}
