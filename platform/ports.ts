// Default ports of ARCHITECTURE section 2, the same natively and in compose.
export const defaultPorts = {
  ingress: 8080,
  'service-a': 8081,
  'service-b': 8082,
  'service-c': 8083,
  'worker-fast': 9464,
  'worker-slow': 9465,
  autoscaler: 9466,
  /** The admin API (served by the autoscaler process when ADMIN_API is on). */
  admin: 9467,
  nats: 4222,
  natsMonitoring: 8222,
  prometheus: 9090,
  grafana: 3000,
  jaegerUi: 16686,
  otlpHttp: 4318,
} as const;

/**
 * Replica k (2..8) of a worker pool listens on its pool's base + k; the first replica keeps the
 * role's port above, so a single-replica run is unchanged. Fast 9472-9478, slow 9482-9488: clear
 * of every port above (and of Jaeger's side ports), and moved by TPS_PORT_OFFSET like them.
 */
export const replicaPortBase = { fast: 9470, slow: 9480 } as const;

export function workerReplicaPort(pool: keyof typeof replicaPortBase, replica: number): number {
  return replica === 1 ? defaultPorts[`worker-${pool}`] : replicaPortBase[pool] + replica;
}
