import { z } from 'zod';
import { loadConfig } from '#platform/config.ts';
import { collect, nativeTargets, nativeWarnings, parseTargets, type Target } from '#operator/status/collect.ts';
import { diagnose } from '#operator/status/diagnose.ts';
import { painter, renderFindings, renderStatus } from '#operator/status/render.ts';
import { snapshot } from '#operator/status/snapshot.ts';
import { CommandError, parseFlags, UsageError } from '../output.ts';

export const help = `
usage: tps status [--interval <seconds>] [--watch] [--targets role=url,...] [--json] [--no-color]

The handbook's dashboard in a terminal: breakers, queue depth vs capacity, worker utilization,
error rate, p50/p90/p99 latency, throughput vs incoming, rejections, DLQ, autoscaler, CPU and
memory per role, active chaos faults; each value marked against the handbook's normal range
(✓ normal, ! watch, ✗ act). Reads every role's /metrics twice, <interval> apart (default 2 s),
so no Prometheus is needed. Targets come from \`tps up\` (.tps/supervisor.json), --targets or
TPS_TARGETS; a host name is read at each address it resolves to (every compose replica).

  --watch          refresh until Ctrl-C
  --json           the snapshot as JSON (for scripts)
`;

export const statusFlags = {
  interval: { type: 'string' }, watch: { type: 'boolean' }, targets: { type: 'string' }, json: { type: 'boolean' }, 'no-color': { type: 'boolean' },
} as const;
export const statusSchema = z.object({
  interval: z.coerce.number().min(0.2).max(60).default(2),
  watch: z.boolean().optional(),
  targets: z.string().optional(),
  json: z.boolean().optional(),
  'no-color': z.boolean().optional(),
});

/** --targets, else TPS_TARGETS (the compose tools container), else this machine's `tps up`. */
export function resolveTargets(spec: string | undefined): Target[] {
  const config = loadConfig();
  const given = spec ?? config.operator.targets;
  if (given) {
    try { return parseTargets(given); } catch (err) { throw new UsageError((err as Error).message); }
  }
  const found = nativeTargets(config.stateDir);
  if (found.length === 0) throw new CommandError('TPS Lab is not running here (no `tps up` state). Start it with `make up`, or name the roles with --targets role=http://host:port,...');
  return found;
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, statusFlags, statusSchema);
  const targets = resolveTargets(values.targets);
  // Targets named by hand or by TPS_TARGETS are not this machine's `tps up`: its warnings do not apply.
  const config = loadConfig();
  const warnings = (values.targets ?? config.operator.targets) ? [] : nativeWarnings(config.stateDir);
  const paint = painter(!values['no-color'] && !values.json && Boolean(process.stdout.isTTY && process.stdout.hasColors?.()));
  do {
    const s = snapshot(await collect(targets, values.interval * 1000));
    if (values.json) console.log(JSON.stringify({ ...s, warnings, findings: diagnose(s) }, null, 2));
    else {
      if (values.watch && process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
      console.log(renderStatus(s, paint, warnings));
      const serious = diagnose(s).filter((f) => f.severity === 'critical' || f.severity === 'high');
      if (serious.length) console.log(`\n${serious.length === 1 ? '1 problem needs' : `${serious.length} problems need`} attention: run \`tps diagnose\`.`);
    }
  } while (values.watch);
  return 0;
}
