import { z } from 'zod';
import { defaultMix, MixError, parseMix } from '#loadgen/mix.ts';
import { nativeTargets, parseTargets } from '#operator/status/collect.ts';
import { recordSweep } from '#operator/tune/record.ts';
import { tune, TuneError, tuneGoals, type TuneResult, type TuneRow } from '#operator/tune/tune.ts';
import { parseDuration } from '#platform/config-types.ts';
import { loadConfig } from '#platform/config.ts';
import { openControlStore } from '#platform/control/store.ts';
import { findTunedLever, tunablePoolLevers, tunableValues, type TunedLever } from '#operator/tune/levers.ts';
import { controlOperations } from '#platform/control/operations.ts';
import { parameterNames } from '#platform/params/catalogue.ts';
import { parameterOperations } from '#platform/params/operations.ts';
import { CommandError, UsageError, parseFlags } from '../output.ts';
import { operator, table, withNats } from '../session.ts';
import { interruptible } from '../interrupts.ts';

export const help = `
usage: tps tune <parameter> --values <v1,v2,...> [--rate N] [--duration 30s] [--goal p99] [--mix ...] [--json]

Measures a live parameter or a pool lever (lab 3.2): after a 5 s warm-up at the same rate (not measured), a
baseline run with the value in force now, then one run per
value, each under the same open-model load (--rate arrivals per second for --duration, the job
mix of \`tps load\`). After each run it waits for the jobs to drain, then reads every role's
/metrics: job latency p50/p99 end to end, throughput, the failed share of job attempts, refusals,
CPU and memory summed over the roles. One table, each value against the baseline, and the best
value for --goal. The value as it was is put back at the end (also on Ctrl-C, SIGTERM or an error). The
sweep is kept as an audit event (tps.events.tune.measured), which lab 3.2 reads.
Parameters: ${parameterNames.join(', ')}; pool levers: ${tunablePoolLevers.join(', ')}
(tps config --help). Sweeping a pool's slots needs the autoscaler off (tps autoscaler disable): it
would change them under the measurement.

  --values v1,v2,...   the values to try (2 to 8), as \`tps config set\` takes them (30, 1500ms, 2s)
  --rate N             arrivals per second (default 50)
  --duration D         each run's load (default 30s; at least 5s, at most 10m)
  --goal G             which value is best: ${tuneGoals.join(', ')} (default p99; lower is better but for throughput)
  --mix TYPE=W,...     job types and weights (default ${defaultMix})
  --json               the result as JSON

Example:
  tps tune breaker.error-percent --values 30,50,70 --rate 100 --duration 30s --goal errors
`;

const flagSchema = z.object({
  values: z.string().min(1, 'which values? e.g. --values 30,50,70'),
  rate: z.string().regex(/^\d+$/, 'expected a whole number of arrivals per second').transform(Number).pipe(z.number().min(1).max(5_000)).default(50),
  duration: z.string().default('30s').transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined || ms < 5_000 || ms > 600_000) ctx.addIssue({ code: 'custom', message: `expected a duration from 5s to 10m such as 30s; got "${value}"` });
    return ms ?? 0;
  }),
  goal: z.enum(tuneGoals).default('p99'),
  mix: z.string().default(defaultMix),
  json: z.boolean().optional(),
});

type Values = NonNullable<ReturnType<typeof tunableValues>>;
const tunable = () => [...parameterNames, ...tunablePoolLevers].join(', ');

function parameter(name: string | undefined): Values {
  if (!name) throw new UsageError(`which parameter? e.g. tps tune breaker.error-percent --values 30,50,70; parameters are ${tunable()}`);
  const p = tunableValues(name);
  if (!p) throw new UsageError(`unknown parameter "${name}"; parameters are ${tunable()}`);
  return p;
}

function values(p: Values, spec: string): number[] {
  const parsed = spec.split(',').map((text) => p.parse(text.trim()));
  const bad = parsed.find((v): v is { error: string } => 'error' in v);
  if (bad) throw new UsageError(`--values: ${bad.error}`);
  const list = parsed.map((v) => (v as { value: number }).value);
  if (list.length < 1 || list.length > 8) throw new UsageError(`--values: give 1 to 8 values, got ${list.length}`);
  return list;
}

const change = (value: number, base: number) => (base === 0 ? (value === 0 ? '' : ' (new)') : ` (${value >= base ? '+' : ''}${Math.round(((value - base) / base) * 100)} %)`);

/** The sweep as a table, each value against the baseline. */
export function render(p: Values, r: TuneResult): string {
  const base = r.rows[0] as TuneRow;
  const cells = (row: TuneRow) => [
    typeof row.run === 'string' ? row.run : p.show(row.run) + (row.run === r.best ? ' *' : ''),
    `${row.p50Ms.toFixed(1)}${row === base ? '' : change(row.p50Ms, base.p50Ms)}`,
    `${row.p99Ms.toFixed(1)}${row === base ? '' : change(row.p99Ms, base.p99Ms)}`,
    `${row.throughput.toFixed(1)}${row === base ? '' : change(row.throughput, base.throughput)}`,
    `${(row.errorRate * 100).toFixed(2)} %`, `${(row.refusedRate * 100).toFixed(2)} %`,
    `${row.cpuPercent.toFixed(0)} %`, `${row.memoryMb.toFixed(0)} MB`, row.drained ? 'yes' : 'NO',
  ];
  return [
    `${r.parameter} at ${r.rate} jobs/s, ${r.durationMs / 1000} s a run (job latency end to end; CPU and memory over every role):`,
    table([['VALUE', 'P50 MS', 'P99 MS', 'JOBS/S', 'FAILED', 'REFUSED', 'CPU', 'MEMORY', 'DRAINED'], base, ...r.rows.slice(1)].map((row) => (Array.isArray(row) ? row : cells(row)))),
    r.best !== undefined ? `Best for ${r.goal}: ${p.show(r.best)} (*). The value in force before is back.` : '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags(argv, {
    values: { type: 'string' }, rate: { type: 'string' }, duration: { type: 'string' }, goal: { type: 'string' }, mix: { type: 'string' }, json: { type: 'boolean' },
  }, flagSchema, { positionals: true });
  const [name, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const p = parameter(name);
  const list = values(p, v.values);
  let mix;
  try { mix = parseMix(v.mix); } catch (err) { throw err instanceof MixError ? new UsageError(`--mix: ${err.message}`) : err; }
  const config = loadConfig();
  const targets = config.operator.targets ? parseTargets(config.operator.targets) : nativeTargets(config.stateDir);
  if (targets.length === 0) throw new CommandError('TPS Lab is not running here: start it with `make up` (or name the roles with TPS_TARGETS)');
  return withNats('tune', async ({ nc }) => {
    const control = await openControlStore(nc);
    const by = `${operator()} (tps tune)`;
    const lever = findTunedLever(p.name, {
      targets, by, applyTimeoutMs: 10_000, config, nc, control,
      params: parameterOperations(nc, control), operations: controlOperations(nc, control, config.autoscaler.enabled),
    }) as TunedLever;
    let result: TuneResult;
    // Stopped (cli/interrupts.ts), the sweep ends after the run under way and the value in force before is put back.
    const stop = interruptible();
    try {
      result = await tune({
        lever, values: list, rate: v.rate, durationMs: v.duration, mix, goal: v.goal, targets, stop: stop.signal,
        ...(v.json ? {} : { progress: (line: string) => console.error(line) }),
      });
    } catch (err) {
      if (err instanceof TuneError) throw new CommandError(err.message);
      throw err;
    } finally {
      stop.dispose();
    }
    console.log(v.json ? JSON.stringify(result, null, 2) : render(p, result));
    // Kept as an audit event (lab 3.2 reads which kinds of lever were measured); a lost event
    // does not undo the measurement, so it is a warning.
    if (!(await recordSweep(nc, result, by))) console.error('warning: the sweep was not kept as an event (tps.events.tune.measured): NATS did not store it');
    return 0;
  });
}
