// Default ports of ARCHITECTURE section 2, the same natively and in compose. A worker pool's ports
// are in its entry of pools.ts.
import { poolDefinitions, poolNames, workerReplicas, workerRole, type Pool } from './pools.ts';

const fixedPorts = {
  ingress: 8080,
  'service-a': 8081,
  'service-b': 8082,
  'service-c': 8083,
  /** The operator console (services/console/): the Andon board in a browser. */
  console: 8090,
  /** A chain service's canary (platform/canary.ts): 100 above its service. */
  'service-b-canary': 8182,
  'service-c-canary': 8183,
  autoscaler: 9466,
  /** The admin API (served by the autoscaler process when ADMIN_API is on). */
  admin: 9467,
  nats: 4222,
  natsMonitoring: 8222,
  prometheus: 9090,
  /** Alertmanager: Prometheus' alerts, routed to the console (alertmanager/alertmanager.yml). */
  alertmanager: 9093,
  grafana: 3000,
  jaegerUi: 16686,
  otlpHttp: 4318,
} as const;

type WorkerPorts = { readonly [P in Pool as `worker-${P}`]: number };

export const defaultPorts: typeof fixedPorts & WorkerPorts = {
  ...fixedPorts,
  ...(Object.fromEntries(poolNames.map((pool) => [workerRole(pool), poolDefinitions[pool].port])) as WorkerPorts),
};

/**
 * Replica k (2..8) of a worker pool listens on its pool's replicaPortBase + k; the first replica
 * keeps the role's port, so a single-replica run is unchanged. Fast 9472-9478, slow 9482-9488:
 * clear of every port above (and of Jaeger's side ports), and moved by TPS_PORT_OFFSET like them.
 */
export function workerReplicaPort(pool: Pool, replica: number): number {
  return replica === 1 ? poolDefinitions[pool].port : poolDefinitions[pool].replicaPortBase + replica;
}

/** Every port a role, a worker replica or a system of the lab listens on, by what owns it. */
export function portOwners(): Map<number, string[]> {
  const owners = new Map<number, string[]>();
  const add = (port: number, owner: string) => owners.set(port, [...(owners.get(port) ?? []), owner]);
  for (const [name, port] of Object.entries(fixedPorts)) add(port, name);
  for (const pool of poolNames) {
    add(poolDefinitions[pool].port, workerRole(pool));
    for (let replica = 2; replica <= workerReplicas.max; replica++) add(workerReplicaPort(pool, replica), `${workerRole(pool)}-${replica}`);
  }
  return owners;
}

// A pool entry whose ports overlap another's would have two processes answer on one port (and
// readiness checks ask the wrong one): refuse at load, naming both, before anything starts.
const clashes = [...portOwners()].filter(([, owners]) => owners.length > 1);
if (clashes.length > 0) {
  throw new Error(`ports used twice (platform/pools.ts, platform/ports.ts): ${clashes.map(([port, owners]) => `${port} by ${owners.join(' and ')}`).join('; ')}`);
}
