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
