// The size rules of docs/architecture.md: no source file over 250 lines, no function over 60.
import { expect, it } from 'vitest';
import { longFunctions, oversized } from '#devenv/code-shape.ts';

it('no source file is over 250 lines and no function over 60', () => {
  expect(oversized().map((o) => `${o.file}:${o.line} ${o.name} (${o.lines} lines)`)).toEqual([]);
});

it('measures a function with its inner functions, and leaves a describe callback to its tests', () => {
  const body = (n: number) => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join('\n');
  const source = [
    'export function outer() {', '  const inner = () => {', body(58), '  };', '  return inner;', '}',
    'describe("a suite", () => {', body(70), '  it("a test", () => {', body(61), '  });', '});',
  ].join('\n');
  expect(longFunctions('probe.ts', source).map((f) => [f.name, f.lines])).toEqual([['outer', 63], ['it "a test"', 63]]);
});
