// Live worker replicas (`tps scale <pool> --replicas <n>`): new replicas start like any role
// (own name, port, log, restart on crash) and are waited for; surplus ones are stopped newest
// first with SIGTERM, so each stops pulling, finishes or hands back (nak) its running jobs and
// drains before it exits: nothing accepted is lost. One change at a time.
import { isPool, poolNames, workerReplicas, type Pool } from '#platform/pools.ts';
import type { RoleDefinition } from '#services/registry.ts';
import { portFree } from './port-free.ts';
import { waitUntilReady } from './readiness.ts';
import { ReplicaInputError, ReplicaScaleRefused, type ReplicaChange, type ReplicaView } from './replica-channel.ts';
import { roleInstance, type RoleInstance } from './role-instances.ts';
import type { RoleProcess } from './role-process.ts';

export type ReplicaHost = {
  /** The supervisor's role processes in start order; replicas are added and removed in place. */
  running: RoleProcess[];
  roles: readonly RoleDefinition[];
  offset: number;
  launch(instance: RoleInstance): RoleProcess;
  /** How long a stopping replica may drain before it is killed, and a new one may take to be ready. */
  stopGraceMs: number;
  readyTimeoutMs: number;
  /** Why no change can be made now (the supervisor is stopping), or undefined. */
  refusal(): string | undefined;
  changed(): void;
  say(line: string): void;
};

export type ReplicaScaler = { scale(pool: string, replicas: number, by: string): Promise<ReplicaChange> };

const view = (r: RoleProcess): ReplicaView => ({
  name: r.instance.name, url: `http://127.0.0.1:${r.instance.port}`, ready: r.ready, ...(r.proc.pid ? { pid: r.proc.pid } : {}),
});

const replicasOf = (host: ReplicaHost, pool: Pool) => host.running.filter((r) => r.instance.role.pool === pool);

export function replicaScaler(host: ReplicaHost): ReplicaScaler {
  let queue: Promise<unknown> = Promise.resolve();
  return {
    scale(pool, replicas, by) {
      if (!isPool(pool)) return Promise.reject(new ReplicaInputError(`unknown pool "${pool}"; pools are ${poolNames.join(', ')}`));
      if (!Number.isInteger(replicas) || replicas < workerReplicas.min || replicas > workerReplicas.max) {
        return Promise.reject(new ReplicaInputError(`replicas must be a whole number from ${workerReplicas.min} to ${workerReplicas.max}, got ${replicas}`));
      }
      const next = queue.then(() => change(host, pool, replicas, by));
      queue = next.catch(() => undefined);
      return next;
    },
  };
}

async function change(host: ReplicaHost, pool: Pool, count: number, by: string): Promise<ReplicaChange> {
  const refused = host.refusal();
  if (refused) throw new ReplicaScaleRefused(refused);
  const role = host.roles.find((r) => r.pool === pool);
  if (!role) throw new ReplicaScaleRefused(`this supervisor does not run the ${pool} pool`);
  const before = replicasOf(host, pool);
  if (count !== before.length) host.say(`scaling the ${pool} pool from ${before.length} to ${count} worker processes (by ${by})`);
  const started = count > before.length ? await addReplicas(host, role, before.length + 1, count) : [];
  const stopped = count < before.length ? await removeReplicas(host, before.slice(count).reverse()) : [];
  return { pool, previous: before.length, replicas: count, started: started.map(view), stopped, instances: replicasOf(host, pool).map(view) };
}

async function addReplicas(host: ReplicaHost, role: RoleDefinition, first: number, last: number): Promise<RoleProcess[]> {
  const instances = Array.from({ length: last - first + 1 }, (_, i) => roleInstance(role, first + i, host.offset));
  const taken = [];
  for (const i of instances) if (!(await portFree(i.port))) taken.push(`${i.name} (${i.port})`);
  if (taken.length > 0) throw new ReplicaScaleRefused(`ports already in use: ${taken.join(', ')}; free them, or run TPS Lab at another TPS_PORT_OFFSET`);
  const added = instances.map((i) => host.launch(i));
  const after = host.running.findLastIndex((r) => r.instance.role === role);
  host.running.splice(after + 1, 0, ...added);
  host.changed();
  try {
    await waitUntilReady(added, host.readyTimeoutMs, host.changed);
  } catch (err) {
    await removeReplicas(host, added);
    throw new ReplicaScaleRefused(`${(err as Error).message}; stopped the new replicas again`);
  }
  host.say(`  started ${added.map((r) => `${r.instance.name} (port ${r.instance.port})`).join(', ')}`);
  return added;
}

async function removeReplicas(host: ReplicaHost, victims: readonly RoleProcess[]): Promise<ReplicaChange['stopped']> {
  // Stopping, not yet removed: the state file shows them draining, Prometheus scrapes the drain.
  const stops = victims.map((r) => r.proc.stop(host.stopGraceMs));
  host.changed();
  await Promise.all(stops);
  for (const r of victims) {
    const at = host.running.indexOf(r);
    if (at >= 0) host.running.splice(at, 1);
  }
  host.changed();
  const stopped = victims.map((r) => ({ name: r.instance.name, exit: r.proc.lastExit ?? 'stopped' }));
  host.say(`  stopped ${stopped.map((s) => `${s.name} (${s.exit})`).join(', ')}`);
  return stopped;
}
