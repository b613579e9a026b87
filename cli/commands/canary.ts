import { z } from 'zod';
import { canaryName, canarySteps, canaryServices, canaryDefaults, type CanaryValue } from '#platform/canary.ts';
import { parseDuration } from '#platform/config-types.ts';
import { openControlStore } from '#platform/control/store.ts';
import { canaryService, CanaryError, promoteCanary, rollbackCanary, startCanary } from '#operator/canary/rollout.ts';
import { canaryViews, type CanaryView } from '#operator/canary/view.ts';
import { CanaryInputError, CanaryRefused } from '#operator/supervisor/canary-channel.ts';
import { canarySources } from '#operator/canary/sources.ts';
import { SupervisorNotRunning } from '#operator/supervisor/channel.ts';
import { CommandError, UsageError, parseFlags } from '../output.ts';
import { ago, operator, table, withNats } from '../session.ts';

export const help = `
usage: tps canary start <service> --version <v> [--weight 10] [--max-error-percent 5] [--max-p99 2s] [--min-calls 20] [--window 60s]
       tps canary status [<service>] [--json]
       tps canary promote <service> [--to <percent>]
       tps canary rollback <service> [--reason "..."]

A canary deployment (lab 3.6, handbook 7.4) of ${canaryServices.join(' or ')}: a second version beside the
stable one, its own process (natively \`${canaryName('service-b')}\`, started by \`tps up\`'s supervisor; in
compose its container, docs/canary.md), sent a share of the calls by the service's caller.

  start      runs the version as the canary and sends it --weight % of the calls (default ${canaryDefaults.weight})
  status     stable against canary: calls, failed share, p50/p99 as the caller saw them, each
             track's breaker, each process's CPU and memory
  promote    the next step of the rollout (${canarySteps.join(' -> ')} %), or --to a weight; past 100 % the
             new version becomes the stable one (natively the stable process restarts on it while the
             canary takes every call; then the canary stops)
  rollback   sends the canary nothing and stops it

The caller rolls the canary back by itself when, over at least --min-calls of its calls in the last
--window, its failed share is more than --max-error-percent above the stable version's, or its p99
more than --max-p99 above the stable version's, over the same window (with fewer stable calls than
--min-calls to compare, above 0). Every step is an audit event (tps.events.canary.*).

Examples:
  tps canary start service-b --version v2
  tps canary status
  tps canary promote service-b            # 10 -> 50 %
  tps canary rollback service-b --reason "p99 doubled"
`;

const flagSchema = z.object({
  version: z.string().optional(),
  weight: z.string().regex(/^\d+$/, 'expected a whole percent from 1 to 100').transform(Number).pipe(z.number().min(1).max(100)).optional(),
  to: z.string().regex(/^\d+$/, 'expected a whole percent from 1 to 100').transform(Number).pipe(z.number().min(1).max(100)).optional(),
  'max-error-percent': z.string().regex(/^\d+(\.\d+)?$/, 'expected a percent such as 5').transform(Number).pipe(z.number().max(100)).optional(),
  'max-p99': z.string().optional(),
  'min-calls': z.string().regex(/^\d+$/, 'expected a whole number').transform(Number).pipe(z.number().min(1).max(100_000)).optional(),
  window: z.string().optional(),
  reason: z.string().min(1).optional(),
  json: z.boolean().optional(),
});
const flagOptions = {
  version: { type: 'string' }, weight: { type: 'string' }, to: { type: 'string' }, 'max-error-percent': { type: 'string' }, 'max-p99': { type: 'string' },
  'min-calls': { type: 'string' }, window: { type: 'string' }, reason: { type: 'string' }, json: { type: 'boolean' },
} as const;

function milliseconds(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms < min || ms > max) throw new UsageError(`--${flag}: expected a duration from ${min} ms to ${max / 1000} s such as 2s; got "${text}"`);
  return ms;
}

export async function main(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags(argv, flagOptions, flagSchema, { positionals: true });
  const [action, name, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (!['start', 'status', 'promote', 'rollback'].includes(action ?? '')) throw new UsageError(action ? `unknown action "${action}"; use start, status, promote or rollback` : 'start, status, promote or rollback?');
  const service = action === 'status' && name === undefined ? undefined : canaryOrUsage(name);
  if (action === 'start' && !v.version) throw new UsageError('which version? e.g. tps canary start service-b --version v2');
  const limits = { maxP99Ms: milliseconds('max-p99', v['max-p99'], 1, 600_000), windowMs: milliseconds('window', v.window, 1_000, 3_600_000) };
  return withNats('canary', async (session) => {
    const control = await openControlStore(session.nc);
    const d = { ...canarySources(session.config, session.nc, control), by: operator() };
    if (action === 'status') return status(await canaryViews(control, d.targets), service, Boolean(v.json));
    try {
      let value: CanaryValue;
      if (action === 'start') {
        value = await startCanary(d, service!, {
          version: v.version!, ...(v.weight ? { weight: v.weight } : {}), ...(v['max-error-percent'] !== undefined ? { maxErrorPercent: v['max-error-percent'] } : {}),
          ...(limits.maxP99Ms ? { maxP99Ms: limits.maxP99Ms } : {}), ...(v['min-calls'] ? { minCalls: v['min-calls'] } : {}), ...(limits.windowMs ? { windowMs: limits.windowMs } : {}),
          ...(v.reason ? { reason: v.reason } : {}),
        });
      } else if (action === 'promote') value = await promoteCanary(d, service!, v.to);
      else value = await rollbackCanary(d, service!, v.reason);
      console.log(v.json ? JSON.stringify(value, null, 2) : said(service!, value));
      return 0;
    } catch (err) {
      if (err instanceof CanaryError || err instanceof CanaryRefused || err instanceof CanaryInputError) throw new CommandError(err.message);
      if (err instanceof SupervisorNotRunning) throw new CommandError(`natively the supervisor runs the canary's process, and it does not answer: is TPS Lab up (\`make up\`)? (${err.message})`);
      throw err;
    }
  });
}

function canaryOrUsage(name: string | undefined) {
  try { return canaryService(name); } catch (err) { throw new UsageError((err as Error).message); }
}

function said(service: string, value: CanaryValue): string {
  if (value.state === 'promoted') return `${service} runs ${value.version} now: the stable process restarted on it and the canary stopped.`;
  if (value.state === 'rolled-back') return `${service} canary ${value.version} rolled back: every call goes to ${value.stable}${value.auto ? ` (rolled back automatically: ${value.reason})` : ''}.`;
  const next = canarySteps.find((w) => w > value.weight);
  return [
    `${service} canary ${value.version} takes ${value.weight} % of the calls (stable: ${value.stable}).`,
    `Rolled back automatically at ${value.maxErrorPercent} % more failed calls or a p99 ${value.maxP99Ms} ms slower than the stable version's, over ${value.minCalls}+ calls in ${value.windowMs / 1000} s.`,
    `Next: tps canary status, then tps canary ${next ? `promote ${service} (to ${next} %)` : `promote ${service} (${value.version} becomes the stable version)`} or tps canary rollback ${service}.`,
  ].join('\n');
}

function status(views: CanaryView[], service: string | undefined, json: boolean): number {
  const shown = views.filter((v) => !service || v.service === service);
  if (json) {
    console.log(JSON.stringify(shown, null, 2));
    return 0;
  }
  if (shown.length === 0) {
    console.log(`No canary${service ? ` of ${service}` : ''}: \`tps canary start ${service ?? 'service-b'} --version v2\` starts one.`);
    return 0;
  }
  for (const { service: s, value, tracks } of shown) {
    const state = value.state === 'running' ? `${value.weight} % of the calls` : value.state === 'promoted' ? 'promoted' : `ROLLED BACK${value.auto ? ' automatically' : ''}${value.reason ? `: ${value.reason}` : ''}`;
    console.log(`${s}: canary ${value.version} against stable ${value.stable}, ${state} (by ${value.by}, ${ago(value.at)})`);
    console.log(table([
      ['TRACK', 'VERSION', 'CALLS', 'FAILED', 'P50 MS', 'P99 MS', 'BREAKER', 'CPU S', 'MEMORY'],
      ...tracks.map((t) => [t.track, t.version, t.calls, `${t.errorPercent.toFixed(2)} %`, t.p50Ms.toFixed(1), t.p99Ms.toFixed(1), t.breaker ?? '-',
        t.cpuSeconds !== undefined ? t.cpuSeconds.toFixed(1) : '-', t.memoryMb !== undefined ? `${t.memoryMb.toFixed(0)} MB` : '-']),
    ]));
    console.log('');
  }
  return 0;
}
