// Which processes native mode runs: one instance per role, and for a worker role one per replica
// of its pool, each with its own name (its INSTANCE_ID, log file and state entry) and its own port.
import type { ScrapeTarget } from '#monitoring/native.ts';
import type { Pool } from '#platform/pools.ts';
import { workerReplicaPort } from '#platform/ports.ts';
import type { RoleDefinition } from '#platform/role-runtime.ts';

export type RoleInstance = {
  readonly role: RoleDefinition;
  /** `worker-fast` for the first replica (as before replicas existed), then `worker-fast-2`, ... */
  readonly name: string;
  readonly replica: number;
  /** The port it listens on, offset included. */
  readonly port: number;
  /** Environment of this instance only (a canary's or a promoted version's SERVICE_VERSION). */
  readonly env?: Readonly<Record<string, string>>;
};

export type ReplicaCounts = Readonly<Record<Pool, number>>;

export function roleInstance(role: RoleDefinition, replica: number, offset: number): RoleInstance {
  const name = replica === 1 ? role.name : `${role.name}-${replica}`;
  const port = (role.pool ? workerReplicaPort(role.pool, replica) : role.port) + offset;
  return { role, name, replica, port };
}

/** Every instance in start order, a pool's replicas next to each other (so they stop together). */
export function planInstances(roles: readonly RoleDefinition[], replicas: ReplicaCounts, offset: number): RoleInstance[] {
  return roles.flatMap((role) => {
    const count = role.pool ? replicas[role.pool] : 1;
    return Array.from({ length: count }, (_, i) => roleInstance(role, i + 1, offset));
  });
}

/** Prometheus targets: the job is the role, so replicas are instances of one job (as in compose). */
export function scrapeTargets(instances: readonly RoleInstance[]): ScrapeTarget[] {
  return instances.map((i) => ({ job: i.role.name, port: i.port }));
}

/** Whether an instance name (`worker-fast`, `worker-fast-2`) is an instance of this role. */
export function isInstanceOf(name: string, role: string): boolean {
  return name === role || (name.startsWith(`${role}-`) && /^\d+$/.test(name.slice(role.length + 1)));
}
