// The one table of long-running roles: for each, its port, the NATS user it connects as, what it
// refuses to start without, where faults aimed at it act and whether it takes the operator's
// levers from tps_control. `runRole` (role-runtime.ts) does all of that wiring from this table, so
// a role's own start function only builds what is its own; services/registry.ts adds the start
// functions. Worker roles derive from the pools (pools.ts), one per pool. The order is the start
// order; shutdown goes the other way (ingress first).
import { poolDefinitions, poolNames, workerRole, type Pool } from './pools.ts';
import { buckets, streams } from './nats/subjects.ts';
import { dlqMoverConsumer } from './nats/topology.ts';
import { defaultPorts } from './ports.ts';

export const chainRoleNames = ['service-c', 'service-b', 'service-a'] as const;
export type RoleName = (typeof chainRoleNames)[number] | `worker-${Pool}` | 'ingress' | 'autoscaler' | 'console';

/** NATS users: one per role, but the three chain services share `service` (same rights). */
export type NatsUserName = 'operator' | 'ingress' | 'service' | 'autoscaler' | 'console' | `worker-${Pool}`;

export type RoleSpec = {
  readonly name: RoleName;
  readonly description: string;
  readonly port: number;
  /** The pool a worker role pulls for; only these roles run as several replicas. */
  readonly pool?: Pool;
  readonly natsUser: NatsUserName;
  /** Streams, KV buckets and consumers the role refuses to start without (`tps provision` makes them). */
  readonly needs: { readonly streams: readonly string[]; readonly buckets: readonly string[]; readonly consumers: readonly string[] };
  /** Where process faults aimed at the role act (besides crash, CPU and memory, which act on the
   * process): at its HTTP entry, on its calls to the chain, or on its publishes. */
  readonly faultsAt: 'http entry' | 'calls to service-a' | 'publishes';
  /** Exports the gauge of the system faults (nats_down, ...): exactly one role must. */
  readonly reportsSystemFaults: boolean;
  /** Follows `tps breaker open|close` (and, for a worker, its pool's slots) from tps_control. */
  readonly obeysControl: boolean;
};

const poolStreams = poolNames.map((pool) => poolDefinitions[pool].stream);

const chainRole = (name: (typeof chainRoleNames)[number], description: string): RoleSpec => ({
  name, description, port: defaultPorts[name], natsUser: 'service',
  needs: { streams: [], buckets: [buckets.chaos, buckets.control], consumers: [] },
  faultsAt: 'http entry', reportsSystemFaults: false, obeysControl: true,
});

const workerRoleSpec = (pool: Pool): RoleSpec => {
  const def = poolDefinitions[pool];
  return {
    name: workerRole(pool),
    description: `${pool[0]?.toUpperCase()}${pool.slice(1)} worker pool (${def.description}): pulls ${def.stream}, calls the service chain (metrics port)`,
    port: def.port, pool, natsUser: workerRole(pool),
    // Its DLQ mover's consumer too: one ahead of ADVISORIES would skip the jobs it must dead-letter.
    needs: { streams: [def.stream, streams.dlq, streams.advisories], buckets: [buckets.jobs, buckets.chaos, buckets.control], consumers: [def.consumer, dlqMoverConsumer(pool)] },
    faultsAt: 'calls to service-a', reportsSystemFaults: false, obeysControl: true,
  };
};

export const roleSpecs: readonly RoleSpec[] = [
  chainRole('service-c', 'Last service of the chain, the database-like tier'),
  chainRole('service-b', 'Second service of the chain; calls service-c'),
  chainRole('service-a', 'First service of the chain; validates payloads, calls service-b'),
  ...poolNames.map(workerRoleSpec),
  {
    name: 'ingress', description: 'HTTP API: validates jobs and publishes them onto the bounded queues',
    port: defaultPorts.ingress, natsUser: 'ingress',
    needs: { streams: poolStreams, buckets: [buckets.jobs, buckets.idempotency, buckets.chaos], consumers: [] },
    faultsAt: 'publishes', reportsSystemFaults: true, obeysControl: false,
  },
  {
    name: 'autoscaler', description: 'Sets worker slots from queue lag and utilization; serves the admin API when enabled (metrics port)',
    port: defaultPorts.autoscaler, natsUser: 'autoscaler',
    needs: { streams: [...poolStreams, streams.events], buckets: [buckets.control, buckets.chaos], consumers: poolNames.map((p) => poolDefinitions[p].consumer) },
    faultsAt: 'http entry', reportsSystemFaults: false, obeysControl: false,
  },
  {
    // Last: it reads what every other role publishes, and nothing waits on it.
    name: 'console', description: 'Operator console: the Andon board in a browser, read-only without the admin token',
    port: defaultPorts.console, natsUser: 'console',
    needs: { streams: [], buckets: [buckets.chaos, buckets.control], consumers: [] },
    faultsAt: 'http entry', reportsSystemFaults: false, obeysControl: false,
  },
];

export const roleNames: readonly RoleName[] = roleSpecs.map((r) => r.name);

export function isRoleName(name: string): name is RoleName {
  return (roleNames as readonly string[]).includes(name);
}

export function roleSpec(name: RoleName): RoleSpec {
  const spec = roleSpecs.find((r) => r.name === name);
  if (!spec) throw new Error(`no role ${name}`);
  return spec;
}

/** Which NATS user each role connects as. */
export const roleUsers = Object.fromEntries(roleSpecs.map((r) => [r.name, r.natsUser])) as Readonly<Partial<Record<string, NatsUserName>>>;
