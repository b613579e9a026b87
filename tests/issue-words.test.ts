// platform/issue-words.ts: what zod refuses, said in the words of the value that was given, for
// every boundary that refuses input by a schema (flags, HTTP bodies, a fault's parameters).
import { expect, it } from 'vitest';
import { z } from 'zod';
import { describeIssues } from '#platform/issue-words.ts';

const said = (schema: z.ZodType, input: unknown, wording = {}) => {
  const result = schema.safeParse(input);
  if (result.success) throw new Error('the schema took the input');
  return describeIssues(result.error, input, wording);
};

const body = z.strictObject({
  type: z.string().min(1).max(5),
  count: z.number().int().min(1).max(10).optional(),
  tags: z.array(z.string()).max(2).optional(),
  mode: z.enum(['fast', 'slow']).optional(),
  payload: z.record(z.string(), z.unknown()).optional(),
  note: z.string().regex(/^n/, 'a note starts with n').optional(),
});

it('names a missing value, and a value of the wrong kind by what was given', () => {
  expect(said(body, {})).toBe('type is required');
  expect(said(body, { type: 5 })).toBe('type must be a string (got 5)');
  expect(said(body, { type: 'a', payload: 'x' })).toBe('payload must be an object (got "x")');
  expect(said(body, { type: 'a', payload: [1] })).toBe('payload must be an object (got a list)');
  expect(said(body, [], { root: 'body' })).toBe('body must be an object (got a list)');
  expect(said(z.object({ n: z.coerce.number() }), { n: 'x' }, { name: (p: readonly PropertyKey[]) => `--${p.join('.')}` })).toBe('--n must be a number (got "x")');
});

it('gives the bound a number, a string or a list broke, with the value', () => {
  expect(said(body, { type: 'a', count: 0 })).toBe('count must be at least 1 (got 0)');
  expect(said(body, { type: 'a', count: 11 })).toBe('count must be at most 10 (got 11)');
  expect(said(z.object({ r: z.number().positive() }), { r: 0 })).toBe('r must be more than 0 (got 0)');
  expect(said(body, { type: '' })).toBe('type must be at least 1 character long (got "")');
  expect(said(body, { type: 'abcdef' })).toBe('type must be at most 5 characters long (got "abcdef")');
  expect(said(body, { type: 'a', tags: ['x', 'y', 'z'] })).toBe('tags must be at most 2 items (got a list)');
});

it('lists the choices of an enum, names unknown keys, and joins several problems', () => {
  expect(said(body, { type: 'a', mode: 'medium' })).toBe('mode must be one of "fast", "slow" (got "medium")');
  expect(said(body, { type: 'a', priority: 1 })).toBe('unknown field "priority"');
  expect(said(body, { type: 'a', x: 1, y: 2 }, { key: 'parameter' })).toBe('unknown parameters "x", "y"');
  expect(said(body, { count: 'many' })).toBe('type is required; count must be a number (got "many")');
});

it('keeps a message the schema wrote itself', () => {
  expect(said(body, { type: 'a', note: 'x' })).toBe('note: a note starts with n');
});
