// Every benchmark script answers --help with its usage, and a flag it does not know or a bad value
// with one line, that usage and exit status 2, never a stack trace (bench/lib/args.ts). Nothing is
// measured: each script stops at its flags.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const benchDir = path.join(import.meta.dirname, '..', 'bench');
const scripts = readdirSync(benchDir).filter((f) => f.endsWith('.bench.ts'));

async function bench(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(benchDir, script), ...args], { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe.each(scripts)('%s', (script) => {
  it('prints its usage for --help', async () => {
    const r = await bench(script, ['--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`usage: node bench/${script}`);
  });

  it('refuses a flag it does not know with its usage and exit 2', async () => {
    const r = await bench(script, ['--no-such-flag']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^${script}: Unknown option '--no-such-flag'`));
    expect(r.stderr).toContain(`usage: node bench/${script}`);
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });
});

it('refuses a value that is not a whole number, naming the flag', async () => {
  const r = await bench('tracing-off.bench.ts', ['--calls', 'many']);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('--calls: expected a whole number of at least 1, got "many"');
});
