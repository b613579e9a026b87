import { z } from 'zod';
import { ChaosInputError, durations, parseFaultParams, type ActiveFault } from '#platform/chaos/catalogue.ts';
import { ChaosStoreUnavailable, openChaosControl, type ChaosControl } from '#chaos/control-plane.ts';
import { SystemFaultRefused } from '#operator/supervisor/channel.ts';
import { loadConfig } from '#platform/config.ts';
import { createLogger } from '#platform/logger.ts';
import { parseDuration } from '#platform/config-types.ts';
import { catalogueText, confirmation, faultTable, formatDuration, paramsOf } from '../chaos-format.ts';
import { CommandError, parseFlags, UsageError } from '../output.ts';
import { operator } from '../session.ts';

export const help = `
usage: tps chaos <subcommand> ...

Breaks TPS Lab on purpose, for a limited time (docs/chaos.md). Every fault expires by itself
(default ${formatDuration(durations.defaultMs)}, at most ${formatDuration(durations.maxMs)}); every change is an audit event.

  set <target> <fault> [k=v ...] [--duration 5m]   start a fault (replaces the same fault on that target)
  clear <target> [fault]                            end a target's faults (or just that one)
  list [--json]                                     the faults in force, with what is left of each
  reset                                             end every fault; restart what a system fault stopped
  faults                                            the catalogue: faults, parameters, limits, targets
  run <scenario> ...                                run a scenario (a timeline of faults)

Examples:
  tps chaos set service-a error_rate ratio=1              service-a fails every request (lab 2.4)
  tps chaos set service-c latency ms=5000 --duration 5m   service-c answers 5 s late (lab 3.1)
  tps chaos set worker-fast crash                         the fast worker dies once (restarted)
  tps chaos set nats nats_down --duration 30s             NATS stopped for 30 s (native mode)
  tps chaos clear service-a
  tps chaos reset

Process faults (latency, error_rate, hang, cpu_burn, memory_leak, bandwidth, crash) travel through
NATS to every replica of the target. System faults (nats_down, monitoring_down, autoscaler_down)
are carried out by the native supervisor (\`make up\`); in compose mode use \`make chaos MODE=compose\`.
`;

const subcommands: Record<string, (argv: string[]) => Promise<number>> = { set, clear, list, reset, faults };

export async function helpFor(argv: string[]): Promise<string | undefined> {
  return argv[0] === 'run' ? (await import('./chaos-run.ts')).help : undefined;
}

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'run') return (await import('./chaos-run.ts')).main(rest);
  const run = sub !== undefined && Object.hasOwn(subcommands, sub) ? subcommands[sub] : undefined;
  if (!run) throw new UsageError(sub ? `unknown subcommand "${sub}"; use set, clear, list, reset, faults or run` : 'which subcommand? set, clear, list, reset, faults or run');
  try {
    return await run(rest);
  } catch (err) {
    if (err instanceof ChaosInputError) throw new UsageError(err.message);
    if (err instanceof SystemFaultRefused || err instanceof ChaosStoreUnavailable) throw new CommandError(err.message, { cause: err });
    throw err;
  }
}

async function withControl<T>(work: (control: ChaosControl) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const logger = createLogger('tps', { ...config, log: { level: 'warn' } });
  const control = openChaosControl({ config, logger, warn: (message) => console.error(`tps: ${message}`) });
  try {
    return await work(control);
  } finally {
    await control.close();
  }
}

/** `k=v` words as fault parameters (the catalogue's parser), a mistake as a usage error. */
export function parseParams(words: readonly string[]): Record<string, unknown> {
  try {
    return parseFaultParams(words);
  } catch (err) {
    if (err instanceof ChaosInputError) throw new UsageError(err.message);
    throw err;
  }
}

async function set(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { duration: { type: 'string' } }, z.object({ duration: z.string().optional() }), { positionals: true });
  const [target, fault, ...words] = positionals;
  if (!target || !fault) throw new UsageError('usage: tps chaos set <target> <fault> [k=v ...] [--duration 5m]');
  const durationMs = values.duration === undefined ? undefined : parseDuration(values.duration, 's');
  if (values.duration !== undefined && durationMs === undefined) throw new UsageError(`bad duration "${values.duration}"; write e.g. 90s, 5m or 1h (at most 2h)`);
  const params = parseParams(words);
  const f = await withControl((c) => c.set({ target, fault, params, ...(durationMs !== undefined ? { durationMs } : {}) }, operator()));
  console.log(confirmation(f));
  const stops = { nats_down: 'NATS is stopped', monitoring_down: 'Prometheus and Grafana are stopped', autoscaler_down: 'the autoscaler is stopped' } as Record<string, string>;
  if (stops[f.fault]) console.log(`${stops[f.fault]}; it starts again at expiry, or now with \`tps chaos clear ${f.target}\`.`);
  return 0;
}

async function clear(argv: string[]): Promise<number> {
  const { positionals } = parseFlags(argv, {}, z.object({}), { positionals: true });
  const [target, fault, extra] = positionals;
  if (!target || extra) throw new UsageError('usage: tps chaos clear <target> [fault]');
  const cleared = await withControl((c) => c.clear(target, fault, operator()));
  printCleared(cleared, `no ${fault ?? 'fault'} active on ${target}`);
  return 0;
}

async function list(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { json: { type: 'boolean' } }, z.object({ json: z.boolean().default(false) }));
  const faults = await withControl((c) => c.list());
  if (values.json) console.log(JSON.stringify(faults, null, 2));
  else console.log(faults.length ? faultTable(faults) : 'no chaos faults active');
  return 0;
}

async function reset(argv: string[]): Promise<number> {
  parseFlags(argv, {}, z.object({}));
  const cleared = await withControl((c) => c.reset(operator()));
  printCleared(cleared, 'no chaos faults were active');
  return 0;
}

async function faults(argv: string[]): Promise<number> {
  parseFlags(argv, {}, z.object({}));
  console.log(catalogueText());
  return 0;
}

function printCleared(cleared: readonly ActiveFault[], none: string): void {
  if (cleared.length === 0) { console.log(none); return; }
  for (const f of cleared) {
    const params = paramsOf(f);
    console.log(`cleared ${f.target}: ${f.fault}${params ? ` ${params}` : ''}${f.fault.endsWith('_down') ? ' (started again)' : ''}`);
  }
}
