import { jetstream } from '@nats-io/jetstream';
import { publishAuditEvent } from '#platform/nats/audit-events.ts';
import { z } from 'zod';
import { SupervisorNotRunning } from '#operator/supervisor/channel.ts';
import { loadConfig } from '#platform/config.ts';
import { controlOperations } from '#platform/control/operations.ts';
import { openControlStore } from '#platform/control/store.ts';
import { stateDir } from '#platform/paths.ts';
import { isPool, poolDefinitions, poolNames, workerReplicas, type Pool } from '#platform/pools.ts';
import { replicaChannel, ReplicaInputError, ReplicaScaleRefused, type ReplicaChange } from '#operator/supervisor/replica-channel.ts';
import { CommandError, UsageError, parseFlags } from '../output.ts';
import { operator, withNats } from '../session.ts';
import type { NatsConnection } from '#platform/nats/connect.ts';
import { waitForSlots } from '../worker-slots.ts';

const bounds = poolNames.map((p) => `${p} ${poolDefinitions[p].slots.min}-${poolDefinitions[p].slots.max}`).join(', ');
const replicaPorts = poolNames.map((p) => `${p} ${poolDefinitions[p].replicaPortBase + 2}-${poolDefinitions[p].replicaPortBase + workerReplicas.max}`).join(', ');

export const help = `
usage: tps scale <pool> <slots> [--no-wait] [--json]
       tps scale <pool> --replicas <n> [--json]

Slots: sets the slots (concurrent jobs) of every worker process of a pool, live: running jobs are
never interrupted; a smaller number takes effect as jobs finish. The value goes to the tps_control
bucket, so every replica applies it, and one started later starts with it.
Slots per pool: ${bounds}. If the autoscaler is enabled it may change the value again
after its cooldown; \`tps autoscaler disable\` keeps the pool under manual control.

Replicas (native mode, \`make up\`): starts or stops worker processes of the pool, live, through
the native supervisor. Every replica pulls from the pool's one durable consumer (workers-fast,
workers-slow) and has its own INSTANCE_ID (worker-fast-2, ...), log and metrics port: the first
keeps 9464 / 9465, then ${replicaPorts} (plus TPS_PORT_OFFSET).
Scaling in stops the newest replicas with SIGTERM: each stops pulling, finishes or hands back its
running jobs, then exits, so no accepted job is lost. ${workerReplicas.min}-${workerReplicas.max} per pool; the count at start is
WORKERS_FAST / WORKERS_SLOW (\`make up WORKERS_FAST=3\`).
In compose, \`bin/tps scale fast --replicas 3\` on the host changes the worker containers
(\`docker compose up -d --scale worker-fast=3\`) and records the same event (through the tools
container, with --recorded-from <n>, the count before: the change is done).

  --replicas <n>  worker processes of the pool (native mode)
  --no-wait       slots only: do not wait for the workers to confirm (by heartbeat)
  --json          print the result as JSON

Examples:
  tps scale slow 24
  tps scale fast --replicas 3
  tps autoscaler disable && tps scale fast 64
`;

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { replicas: { type: 'string' }, 'no-wait': { type: 'boolean' }, json: { type: 'boolean' }, 'recorded-from': { type: 'string' } },
    z.object({ replicas: z.string().optional(), 'no-wait': z.boolean().optional(), json: z.boolean().optional(), 'recorded-from': z.string().regex(/^\d+$/, 'a count of replicas').optional() }), { positionals: true });
  const [pool, count, ...extra] = positionals;
  if (!pool) throw new UsageError('which pool? e.g. `tps scale slow 24` (slots) or `tps scale fast --replicas 3` (worker processes)');
  if (values.replicas !== undefined && count !== undefined) throw new UsageError('give either slots or --replicas, not both (one change at a time)');
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (!isPool(pool)) throw new UsageError(`unknown pool "${pool}"; pools are ${poolNames.join(', ')}`);
  if (values['recorded-from'] !== undefined) return recordComposeReplicas(pool, values.replicas, Number(values['recorded-from']));
  if (values.replicas !== undefined) return scaleReplicas(pool, values.replicas, Boolean(values.json));
  if (count === undefined) throw new UsageError(`how many slots, or --replicas? e.g. \`tps scale ${pool} 24\` or \`tps scale ${pool} --replicas 3\``);
  return scaleSlots(pool, count, { json: Boolean(values.json), wait: !values['no-wait'] });
}

async function scaleSlots(pool: Pool, count: string, opts: { json: boolean; wait: boolean }): Promise<number> {
  const { min, max } = poolDefinitions[pool].slots;
  if (!/^\d+$/.test(count) || Number(count) < min || Number(count) > max) throw new UsageError(`slots for the ${pool} pool must be a whole number from ${min} to ${max}, got "${count}"`);
  const slots = Number(count);
  return withNats('scale', async ({ config, nc }) => {
    const ops = controlOperations(nc, await openControlStore(nc), config.autoscaler.enabled);
    const result = await ops.scale(pool, slots, operator());
    const applied = opts.wait ? await waitForSlots(nc, pool, slots, { heartbeatMs: config.workers.heartbeatMs, timeoutMs: 5_000 + 2 * config.workers.heartbeatMs }) : undefined;
    if (opts.json) {
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

/** Starts or stops the pool's worker processes through the supervisor and records the audit event. */
export async function changeReplicas(pool: Pool, count: number, by: string): Promise<ReplicaChange> {
  const config = loadConfig();
  const dir = stateDir(config.stateDir);
  // Long enough for stopping replicas to drain and new ones to become ready.
  const channel = replicaChannel(dir, config.shutdownGraceMs + 90_000);
  let change: ReplicaChange;
  try {
    change = await channel.scale({ pool, replicas: count, by });
  } catch (err) {
    if (err instanceof SupervisorNotRunning) {
      throw new CommandError(`no native supervisor is running here (${dir}), so there are no worker processes to scale. ` +
        `Start TPS Lab natively with \`make up WORKERS_${pool.toUpperCase()}=${count}\` (or \`bin/tps up\`) and scale it live from there; ` +
        `in compose use \`docker compose up -d --scale worker-${pool}=${count}\`.`, { cause: err });
    }
    if (err instanceof ReplicaInputError) throw new UsageError(err.message);
    if (err instanceof ReplicaScaleRefused) throw new CommandError(`the supervisor refused: ${err.message}`, { cause: err });
    throw err;
  }
  return change;
}

/** The audit event of a change of replicas (who, from, to), which the exam and the console read back. */
export async function recordReplicas(nc: NatsConnection, change: Pick<ReplicaChange, 'pool' | 'previous' | 'replicas'>, by: string): Promise<void> {
  const stored = await publishAuditEvent(jetstream(nc), 'control.replicas', by, { pool: change.pool, from: change.previous, to: change.replicas });
  if (!stored) console.error('warning: the replicas changed, but the audit event could not be stored');
}

/** bin/tps in compose changed the containers (scripts/compose.sh scale): the event only. */
async function recordComposeReplicas(pool: Pool, count: string | undefined, previous: number): Promise<number> {
  if (count === undefined || !/^\d+$/.test(count)) throw new UsageError('--recorded-from goes with --replicas <n>');
  const change = { pool, replicas: Number(count), previous };
  await withNats('scale', ({ nc }) => recordReplicas(nc, change, operator()));
  console.log(`${pool} pool: ${count} worker containers (was ${previous}), recorded`);
  return 0;
}

async function scaleReplicas(pool: Pool, count: string, json: boolean): Promise<number> {
  const { min, max } = workerReplicas;
  if (!/^\d+$/.test(count) || Number(count) < min || Number(count) > max) throw new UsageError(`replicas of the ${pool} pool must be a whole number from ${min} to ${max}, got "${count}"`);
  const change = await changeReplicas(pool, Number(count), operator());
  await withNats('scale', ({ nc }) => recordReplicas(nc, change, operator())).catch((err: unknown) => {
    console.error(`warning: the replicas changed, but the audit event could not be stored (${(err as Error).message})`);
  });
  if (json) console.log(JSON.stringify(change, null, 2));
  else console.log(describeChange(change));
  return 0;
}

function describeChange(c: ReplicaChange): string {
  const processes = (n: number) => `${n} worker process${n === 1 ? '' : 'es'}`;
  const lines = [c.replicas === c.previous ? `${c.pool} pool: already ${processes(c.replicas)}.` : `${c.pool} pool: ${processes(c.replicas)} (was ${c.previous}).`];
  if (c.started.length) lines.push(`  started ${c.started.map((r) => `${r.name} (${r.url})`).join(', ')}`);
  if (c.stopped.length) lines.push(`  stopped ${c.stopped.map((r) => `${r.name} (${r.exit})`).join(', ')}: each finished or handed back its running jobs first`);
  lines.push(`Replicas: ${c.instances.map((r) => r.name).join(', ')}. Slots per process stay as set (\`tps scale ${c.pool} <slots>\`).`);
  return lines.join('\n');
}
