import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { configVariables } from '#platform/config.ts';

it('docs/configuration.md documents exactly the variables the configuration reads', () => {
  const doc = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
  // OTEL_* variables are read by the telemetry preload, not the configuration (own table and test).
  const documented = new Set([...doc.matchAll(/^\| ((?:`[A-Z_]+`(?: \/ )?)+) \|/gm)].flatMap((m) => [...(m[1] ?? '').matchAll(/`([A-Z_]+)`/g)].map((v) => v[1])).filter((v) => !v?.startsWith('OTEL_')));
  expect([...documented].sort()).toEqual([...configVariables].sort());
});
