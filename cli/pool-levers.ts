// The pool levers under `tps config` (lab 3.2's "worker pool size", "queue max size" and the
// autoscaler's cap): a pool's slots per worker, the autoscaler's cap on them, its worker processes
// and its queue size. Each is carried out by the command that owns it (tps scale, tps autoscaler
// cap, tps scale --replicas, tps provision --queue), so there is
// one implementation of each change, its validation and its audit event; here they get the same
// names, get/set/reset and value-in-force view as the live parameters.
import type { Config } from '#platform/config.ts';
import { isPool, poolDefinitions, poolNames, workerReplicas, type Pool } from '#platform/pools.ts';
import { poolVariables } from '#platform/config-schema.ts';
import { queueSizeRange } from '#platform/nats/queue-lever.ts';
import type { ControlStore } from '#platform/control/store.ts';
import type { Target } from '#operator/status/collect.ts';
import { scrapeAll } from '#operator/status/collect.ts';
import { isInstanceOf } from '#operator/supervisor/role-instances.ts';
import { UsageError } from './output.ts';

export const poolLeverKinds = ['slots', 'max-slots', 'replicas', 'queue'] as const;
type Kind = (typeof poolLeverKinds)[number];
export type PoolLever = { name: string; pool: Pool; kind: Kind };

export const poolLeverNames = poolNames.flatMap((pool) => poolLeverKinds.map((kind) => `pool.${pool}.${kind}`));

export function findPoolLever(name: string): PoolLever | undefined {
  const m = /^pool\.([a-z]+)\.(slots|max-slots|replicas|queue)$/.exec(name);
  return m && isPool(m[1] ?? '') ? { name, pool: m[1] as Pool, kind: m[2] as Kind } : undefined;
}

export function poolLeverRange(l: PoolLever): string {
  const { min, max } = l.kind === 'replicas' ? workerReplicas : l.kind === 'queue' ? queueSizeRange : poolDefinitions[l.pool].slots;
  return `${min}..${max}${l.kind === 'max-slots' ? ' or off' : ''}`;
}

const describe: Record<Kind, (pool: Pool) => string> = {
  slots: (pool) => `jobs each ${pool} worker process runs at once (tps scale ${pool} <n>)`,
  'max-slots': (pool) => `the most slots the autoscaler may give the ${pool} pool (tps autoscaler cap ${pool} <n>|off)`,
  replicas: (pool) => `${pool} worker processes, native mode (tps scale ${pool} --replicas <n>)`,
  queue: (pool) => `jobs the ${pool} queue holds before the ingress refuses (tps provision --queue ${pool}=<n>)`,
};
export const poolLeverHelp = poolLeverNames.map((n) => {
  const l = findPoolLever(n) as PoolLever;
  return `  ${n.padEnd(28)} ${poolLeverRange(l).padEnd(18)} ${describe[l.kind](l.pool)}`;
}).join('\n');

/** The command (argv after `tps`) that carries out `set`, or `reset` (value undefined). */
export function poolLeverCommand(l: PoolLever, value: string | undefined, config: Config): string[] {
  if (l.kind === 'slots') return ['scale', l.pool, value ?? String(poolDefinitions[l.pool].slots.initial)];
  if (l.kind === 'replicas') return ['scale', l.pool, '--replicas', value ?? String(config.workers.replicas[l.pool])];
  if (l.kind === 'queue') {
    const n = Number(value);
    if (value !== undefined && (!/^\d+$/.test(value) || n < queueSizeRange.min || n > queueSizeRange.max)) throw new UsageError(`${l.name} takes a whole number, ${poolLeverRange(l)}; got "${value}"`);
    return ['provision', '--queue', `${l.pool}=${value ?? 'default'}`];
  }
  if (value !== undefined && value !== 'off' && !/^\d+$/.test(value)) throw new UsageError(`${l.name} takes a whole number, ${poolLeverRange(l)}; got "${value}"`);
  return ['autoscaler', 'cap', l.pool, value ?? 'off'];
}

/** The size the ingress reads off the stream (tps_queue_capacity). */
function queueInForce(scrapes: Awaited<ReturnType<typeof scrapeAll>>, pool: Pool): string {
  const seen = scrapes.filter((s) => isInstanceOf(s.target.role, 'ingress') && !s.error)
    .map((s) => s.samples.find((x) => x.name === 'tps_queue_capacity' && x.labels.pool === pool)?.value).filter((v): v is number => v !== undefined);
  return seen.length ? [...new Set(seen)].join(', ') : '(no ingress running)';
}

export type PoolLeverView = { name: string; setting: string; inForce: string; range: string };

/** Each lever: what is set (tps_control) and what the running workers report (their /metrics). */
export async function poolLeverViews(control: ControlStore, targets: readonly Target[], config: Config): Promise<PoolLeverView[]> {
  const scrapes = await scrapeAll(targets);
  const views: PoolLeverView[] = [];
  for (const pool of poolNames) {
    const mine = scrapes.filter((s) => isInstanceOf(s.target.role, `worker-${pool}`) && !s.error);
    const slots = mine.map((s) => s.samples.find((x) => x.name === 'tps_worker_slots')?.value).filter((v): v is number => v !== undefined);
    const [set, cap, queue] = [await control.slots(pool), await control.cap(pool), await control.queue(pool)];
    const lever = (kind: Kind) => findPoolLever(`pool.${pool}.${kind}`) as PoolLever;
    views.push(
      { name: `pool.${pool}.slots`, setting: set ? `${set.slots} (${set.reason ?? 'set'} by ${set.by} at ${set.at})` : `start-up value (${poolDefinitions[pool].slots.initial})`,
        inForce: slots.length ? [...new Set(slots)].join(', ') : '(no worker running)', range: poolLeverRange(lever('slots')) },
      { name: `pool.${pool}.max-slots`, setting: cap ? `${cap.max} (by ${cap.by} at ${cap.at})` : `off (AUTOSCALER_${pool.toUpperCase()}_MAX_SLOTS)`, inForce: String(cap?.max ?? config.autoscaler.slots[pool].max), range: poolLeverRange(lever('max-slots')) },
      { name: `pool.${pool}.replicas`, setting: '(tps scale --replicas; native mode)', inForce: `${mine.length} running`, range: poolLeverRange(lever('replicas')) },
      { name: `pool.${pool}.queue`, setting: queue ? `${queue.capacity} (by ${queue.by} at ${queue.at})` : `start-up value (${poolVariables(pool).queueCapacity}=${config.queues.capacity[pool]})`,
        inForce: queueInForce(scrapes, pool), range: poolLeverRange(lever('queue')) },
    );
  }
  return views;
}
