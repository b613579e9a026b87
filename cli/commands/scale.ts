import { z } from 'zod';
import { controlOperations } from '#platform/control/operations.ts';
import { openControlStore } from '#platform/control/store.ts';
import { isPool, poolDefinitions, poolNames } from '#platform/pools.ts';
import { UsageError, parseFlags } from '../output.ts';
import { operator, withNats } from '../session.ts';
import { waitForSlots } from '../worker-slots.ts';

const bounds = poolNames.map((p) => `${p} ${poolDefinitions[p].slots.min}-${poolDefinitions[p].slots.max}`).join(', ');

export const help = `
usage: tps scale <pool> <slots> [--no-wait] [--json]

Sets the slots (concurrent jobs) of every worker process of a pool, live: running jobs are never
interrupted; a smaller number takes effect as jobs finish. The value goes to the tps_control
bucket, so every replica applies it, and one started later starts with it.

Slots per pool: ${bounds}. If the autoscaler is enabled it may change the value again after its
cooldown; \`tps autoscaler disable\` keeps the pool under manual control.
For more worker processes instead of more slots: \`docker compose up --scale worker-fast=3\`.

  --no-wait   do not wait for the workers to confirm (by heartbeat)
  --json      print the result as JSON

Examples:
  tps scale slow 24
  tps autoscaler disable && tps scale fast 64
`;

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { 'no-wait': { type: 'boolean' }, json: { type: 'boolean' } },
    z.object({ 'no-wait': z.boolean().optional(), json: z.boolean().optional() }), { positionals: true });
  const [pool, count, ...extra] = positionals;
  if (!pool || count === undefined) throw new UsageError('which pool and how many slots? e.g. `tps scale slow 24`');
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (!isPool(pool)) throw new UsageError(`unknown pool "${pool}"; pools are ${poolNames.join(', ')}`);
  const { min, max } = poolDefinitions[pool].slots;
  if (!/^\d+$/.test(count) || Number(count) < min || Number(count) > max) throw new UsageError(`slots for the ${pool} pool must be a whole number from ${min} to ${max}, got "${count}"`);
  const slots = Number(count);

  return withNats('scale', async ({ config, nc }) => {
    const ops = controlOperations(nc, await openControlStore(nc), config.autoscaler.enabled);
    const result = await ops.scale(pool, slots, operator());
    const applied = values['no-wait'] ? undefined : await waitForSlots(nc, pool, slots, { heartbeatMs: config.workers.heartbeatMs, timeoutMs: 5_000 + 2 * config.workers.heartbeatMs });
    if (values.json) {
      console.log(JSON.stringify({ ...result, ...(applied ? { workers: applied.workers.size, applied: applied.applied } : {}) }, null, 2));
      return 0;
    }
    console.log(`${pool} pool: ${slots} slots per worker process${result.previous !== undefined ? ` (was ${result.previous})` : ''}.`);
    if (applied && applied.workers.size === 0) console.log('No worker of the pool is running now; workers start with this value.');
    else if (applied) console.log(`Applied by ${applied.applied} of ${applied.workers.size} worker process${applied.workers.size === 1 ? '' : 'es'} (${[...applied.workers.keys()].join(', ')}).`);
    if (result.autoscalerEnabled) console.log('Note: the autoscaler is enabled and may change this after its cooldown; `tps autoscaler disable` keeps it manual.');
    return 0;
  });
}
