import { z } from 'zod';
import { controlOperations, type AutoscalerView } from '#platform/control/operations.ts';
import { openControlStore } from '#platform/control/store.ts';
import { recentEvents } from '#platform/nats/recent-events.ts';
import { isPool, poolDefinitions, poolNames, type Pool } from '#platform/pools.ts';
import { autoscalerEventSubject, type DecisionEvent } from '#services/autoscaler/events.ts';
import { UsageError, parseFlags } from '../output.ts';
import { ago, operator, table, withNats } from '../session.ts';

export const help = `
usage: tps autoscaler <enable|disable|status|cap> [options]

The autoscaler sets the slots of each worker pool from its utilization and queue lag (see
docs/heijunka.md). These levers act through the tps_control bucket:

  status                 is it enabled and running; per pool: workers, desired and actual slots,
                         utilization, lag, throughput, the reason of its last decision; recent decisions
  disable                manual control: the autoscaler stops changing slots (\`tps scale\` sets them)
  enable                 automatic again (it starts from the slots in force now)
  cap <pool> <n|off>     at most n slots per worker for the pool (off: back to the configured maximum);
                         stops a runaway autoscaler without turning it off

  --json                 print the result as JSON

Examples:
  tps autoscaler status
  tps autoscaler disable && tps scale slow 16
  tps autoscaler cap slow 24
`;

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { json: { type: 'boolean' } }, z.object({ json: z.boolean().optional() }), { positionals: true });
  const [action, ...args] = positionals;
  const json = values.json ?? false;
  if (action !== 'enable' && action !== 'disable' && action !== 'status' && action !== 'cap') {
    throw new UsageError(action ? `unknown action "${action}"; use enable, disable, status or cap` : 'what should the autoscaler do? enable, disable, status or cap');
  }
  const cap = action === 'cap' ? parseCap(args) : undefined;
  if (action !== 'cap' && args.length > 0) throw new UsageError(`unexpected arguments: ${args.join(' ')}`);

  return withNats('autoscaler', async ({ config, nc }) => {
    const ops = controlOperations(nc, await openControlStore(nc), config.autoscaler.enabled);
    if (action === 'status') {
      const view = await ops.autoscaler();
      const decisions = await recentEvents<DecisionEvent>(nc, autoscalerEventSubject, { sinceMs: 3_600_000, limit: 10 });
      console.log(json ? JSON.stringify({ ...view, decisions }, null, 2) : formatStatus(view, decisions));
      return 0;
    }
    if (cap) {
      const result = await ops.capAutoscaler(cap.pool, cap.max, operator());
      console.log(json ? JSON.stringify(result) : cap.max === undefined
        ? `${cap.pool} pool: no cap; the autoscaler may go up to its configured maximum (${config.autoscaler.slots[cap.pool].max}).`
        : `${cap.pool} pool: the autoscaler now stays at or below ${cap.max} slots per worker.`);
      return 0;
    }
    const result = await ops.setAutoscaler(action === 'enable', operator());
    if (json) console.log(JSON.stringify(result));
    else if (action === 'enable') console.log(`Autoscaler enabled${result.previous ? ' (it already was)' : ''}: it adjusts slots again, starting from the slots in force now.`);
    else console.log(`Autoscaler disabled${result.previous ? '' : ' (it already was)'}: slots stay where they are; set them with \`tps scale <pool> <n>\`.`);
    return 0;
  });
}

function parseCap(args: string[]): { pool: Pool; max: number | undefined } {
  const [pool, value, ...extra] = args;
  if (!pool || !value) throw new UsageError('usage: tps autoscaler cap <pool> <n|off>');
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (!isPool(pool)) throw new UsageError(`unknown pool "${pool}"; pools are ${poolNames.join(', ')}`);
  if (value === 'off') return { pool, max: undefined };
  const { min, max } = poolDefinitions[pool].slots;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new UsageError(`the cap for the ${pool} pool must be a whole number from ${min} to ${max}, or off; got "${value}"`);
  return { pool, max: Number(value) };
}

function formatStatus(view: AutoscalerView, decisions: DecisionEvent[]): string {
  const lines: string[] = [];
  const mode = view.enabled ? 'enabled' : 'DISABLED (manual control: slots change only with `tps scale`)';
  lines.push(`Autoscaler: ${mode}${view.setBy ? `, set by ${view.setBy.by} ${ago(view.setBy.at)}` : ' (default)'}`);
  for (const pool of poolNames) {
    const setBy = view.capsSetBy[pool];
    if (view.caps[pool] !== undefined) lines.push(`Cap:        ${pool} at most ${view.caps[pool]} slots per worker${setBy ? `, set by ${setBy.by} ${ago(setBy.at)}` : ''} (tps autoscaler cap ${pool} off lifts it)`);
  }
  const s = view.status;
  if (!s) lines.push('Process:    never ran (no status in tps_control); workers keep their slots');
  else if (!s.alive) lines.push(`Process:    NOT RUNNING: last tick ${ago(s.at)} (workers keep their last slots; \`tps scale\` works meanwhile)`);
  else lines.push(`Process:    running (${s.instance}), last tick ${ago(s.at)}, every ${s.tickMs} ms`);
  if (s) {
    lines.push('');
    lines.push(table([
      ['POOL', 'WORKERS', 'DESIRED/WORKER', 'ACTUAL (ALL WORKERS)', 'BOUNDS', 'UTIL', 'LAG', 'JOBS/S', 'LAST DECISION'],
      ...poolNames.map((pool) => {
        const p = s.pools[pool];
        return p
          ? [pool, p.workers, p.desired, p.slots, `${p.min}-${p.max}${view.caps[pool] ? ' (capped)' : ''}`, `${Math.round(p.utilization * 100)} %`, p.lag, p.throughput.toFixed(1), p.bottleneck ? 'bottleneck (more slots do not help)' : p.reason]
          : [pool, '-', '-', '-', '-', '-', '-', '-', '-'];
      }),
    ]));
  }
  lines.push('', decisions.length ? 'Recent decisions (last hour):' : 'No decisions in the last hour.');
  for (const d of decisions) {
    const what = d.direction === 'hold' ? `hold at ${d.from}` : `${d.direction} ${d.from} -> ${d.to}`;
    lines.push(`  ${d.at.slice(11, 19)}  ${d.pool.padEnd(4)}  ${what.padEnd(14)}  ${d.reason.padEnd(16)}  ${d.detail}`);
  }
  return lines.join('\n');
}
