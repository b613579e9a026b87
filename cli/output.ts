// How the CLI talks to people: flags parsed strictly, errors as one clear line (never a stack
// trace unless --debug), exit codes 0 ok, 1 failed, 2 bad usage.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { PortsTakenError } from '#operator/supervisor/port-free.ts';
import { RoleStartError } from '#operator/supervisor/readiness.ts';
import { ConfigError } from '#platform/config.ts';
import { AppError } from '#platform/errors.ts';
import { describeIssues } from '#platform/issue-words.ts';
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
    throw new UsageError(describeIssues(result.error, values, { name: (path) => `--${path.map(String).join('.')}`, root: 'flags', key: 'flag' }));
  }
  return { values: result.data, positionals: parsed.positionals };
}
