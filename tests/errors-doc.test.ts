import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { failureCodes } from '#platform/dlq/failure-codes.ts';
import { errorCatalogue } from '#platform/errors.ts';

it('docs/errors.md lists exactly the error catalogue', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \| (.+) \|$/gm)].map((m) => [m[1], Number(m[2]), m[3]]);
  const catalogue = Object.entries(errorCatalogue).map(([code, e]) => [code, e.status, e.message]);
  expect(rows).toEqual(catalogue);
});

it('docs/errors.md lists exactly the failure codes a job and a DLQ entry can carry', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \| (permanent|retryable) \| (.+) \| (.+) \|$/gm)].map((m) => [m[1], m[2], m[3], m[4]]);
  const catalogue = Object.entries(failureCodes).map(([code, f]) => [code, f.kind, f.meaning, f.action]);
  expect(rows).toEqual(catalogue);
});
