// A benchmark's flags: node's parseArgs with --help (the script's usage: the `//   node bench/...`
// lines of its header comment), and a bad flag or value answered with one line, that usage and
// exit status 2, never a stack trace.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

type Spec = { type: 'string'; default?: string } | { type: 'boolean'; default?: boolean };
type Values<O extends Record<string, Spec>> = { [K in keyof O]: O[K]['type'] extends 'boolean' ? boolean | undefined : string | undefined };

export type BenchArgs<O extends Record<string, Spec>> = {
  values: Values<O>;
  /** The flag as a whole number of at least `min`; its default when not given. */
  whole(name: keyof O & string, fallback?: number, min?: number): number;
  /** The flag as one of `choices`; the first when not given. */
  oneOf<C extends string>(name: keyof O & string, choices: readonly C[]): C;
  /** Ends the script with a usage error (exit 2). */
  fail(why: string): never;
};

export function benchArgs<O extends Record<string, Spec>>(scriptUrl: string, options: O): BenchArgs<O> {
  const file = fileURLToPath(scriptUrl);
  const name = path.basename(file);
  const usage = readFileSync(file, 'utf8').split('\n').filter((line) => /^\/\/\s+node bench\//.test(line)).map((line) => `usage: ${line.replace(/^\/\/\s+/, '')}`).join('\n');
  const fail = (why: string): never => {
    process.stderr.write(`${name}: ${why}\n${usage}\n`);
    process.exit(2);
  };
  let values: Values<O>;
  try {
    const parsed = parseArgs({ options: { ...options, help: { type: 'boolean' } }, strict: true, allowPositionals: false }).values as Record<string, unknown>;
    if (parsed.help) {
      console.log(usage);
      process.exit(0);
    }
    values = parsed as Values<O>;
  } catch (err) {
    return fail((err as Error).message.split('\n')[0] ?? 'bad flags');
  }
  return {
    values,
    fail,
    whole(flag, fallback, min = 1) {
      const raw = values[flag];
      if (raw === undefined && fallback !== undefined) return fallback;
      const n = Number(raw);
      return Number.isInteger(n) && n >= min ? n : fail(`--${flag}: expected a whole number of at least ${min}, got "${String(raw)}"`);
    },
    oneOf(flag, choices) {
      const raw: unknown = values[flag];
      if (raw === undefined) return choices[0] as (typeof choices)[number];
      return choices.find((c) => c === raw) ?? fail(`--${flag}: expected one of ${choices.join(', ')}, got "${String(raw)}"`);
    },
  };
}
