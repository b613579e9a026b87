// How the CLI talks to people: flags parsed strictly, errors as one clear line (never a stack
// trace unless --debug), exit codes 0 ok, 1 failed, 2 bad usage.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { PortsTakenError } from '#operator/supervisor/port-free.ts';
import { RoleStartError } from '#operator/supervisor/readiness.ts';
import { ConfigError } from '#platform/config.ts';
import { AppError } from '#platform/errors.ts';
import { NatsUnavailableError } from '#platform/nats/connect.ts';
import { TopologyError } from '#platform/nats/provision.ts';
import { PortInUseError } from '#platform/http/port-in-use.ts';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** An expected failure with a message written for the operator. */
export class CommandError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CommandError';
  }
}

const knownErrors = [ConfigError, NatsUnavailableError, TopologyError, PortInUseError, PortsTakenError, RoleStartError, CommandError, AppError];

export function reportError(err: unknown): number {
  const debug = process.argv.includes('--debug');
  if (err instanceof UsageError) {
    console.error(`tps: ${err.message}\nRun \`tps ${process.argv[2] ?? ''} --help\` for usage.`);
    return 2;
  }
  if (knownErrors.some((cls) => err instanceof cls)) {
    console.error(`tps: ${(err as Error).message}`);
    if (debug) console.error(err);
    return 1;
  }
  const message = err instanceof Error ? err.message : String(err);
  console.error(`tps: unexpected error: ${message}${debug ? '' : ' (run with --debug for details)'}`);
  if (debug) console.error(err);
  return 1;
}

/** `--replicas -1` as `--replicas=-1`: parseArgs takes a value starting with a dash for an option
 * ("argument is ambiguous"), where the flag's own rule says what is wrong with a negative number. */
function negativeValuesJoined(argv: string[], options: ParseArgsConfig['options']): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [arg, next] = [argv[i] as string, argv[i + 1]];
    const takesValue = arg.startsWith('--') && options?.[arg.slice(2)]?.type === 'string';
    if (takesValue && next !== undefined && /^-\.?\d/.test(next)) { out.push(`${arg}=${next}`); i++; } else out.push(arg);
  }
  return out;
}

/** node:util parseArgs, then a zod schema over the values; every problem becomes a UsageError. */
export function parseFlags<S extends z.ZodType>(argv: string[], options: ParseArgsConfig['options'], schema: S, opts: { positionals?: boolean } = {}): { values: z.output<S>; positionals: string[] } {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: negativeValuesJoined(argv, options), options: { ...options, debug: { type: 'boolean' } }, allowPositionals: opts.positionals ?? false, strict: true });
  } catch (err) {
    // node's first sentence; its advice on positional arguments fits few of our commands.
    throw new UsageError((err as Error).message.replace(/^.*?: /, '').split('\n')[0]?.split('. To specify a positional argument')[0] ?? 'bad arguments');
  }
  const { debug: _debug, ...values } = parsed.values;
  const result = schema.safeParse(values);
  if (!result.success) {
    throw new UsageError(result.error.issues.map((i) => flagProblem(`--${i.path.join('.')}`, i, values[String(i.path[0])])).join('; '));
  }
  return { values: result.data, positionals: parsed.positionals };
}

/** A flag's problem in the words of its value (zod's own say "received NaN" for `--limit x`). */
function flagProblem(flag: string, issue: z.core.$ZodIssue, given: unknown): string {
  // A schema's own message says it best; only zod's defaults are put in other words.
  if (!/^(Invalid input|Too small|Too big)\b/.test(issue.message)) return `${flag}: ${issue.message}`;
  const shown = typeof given === 'string' ? `"${given}"` : String(given);
  if (issue.code === 'invalid_type' && given === undefined) return `${flag} is required`;
  if (issue.code === 'invalid_type' && issue.expected === 'number') return `${flag}: expected a number; got ${shown}`;
  if (issue.code === 'too_small' && issue.origin === 'number') return `${flag}: must be ${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}; got ${shown}`;
  if (issue.code === 'too_big' && issue.origin === 'number') return `${flag}: must be ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}; got ${shown}`;
  return `${flag}: ${issue.message}`;
}
