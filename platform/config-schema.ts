// Every environment variable TPS Lab reads, with its type, bounds and default: the schema
// platform/config.ts validates the environment against (docs/configuration.md lists each one;
// tests/config-doc.test.ts keeps them equal).
import { z } from 'zod';
import { deploymentTracks, versionName } from './canary.ts';
import { decimal, durationMs, flag, httpUrl, integer, logLevel, natsUrls, parseDuration, text } from './config-types.ts';
import { poolDefinitions, poolNames, poolVariable, workerReplicas, type Pool } from './pools.ts';

/** Worker processes of one pool that the native supervisor runs (WORKERS_<POOL>). */
const replicasMessage = `expected a number of worker processes from ${workerReplicas.min} to ${workerReplicas.max}`;
const replicaCount = z.string().regex(/^\d+$/, replicasMessage).transform(Number)
  .pipe(z.number().min(workerReplicas.min, replicasMessage).max(workerReplicas.max, replicasMessage));

/** The variables every pool has, named after it (FAST_QUEUE_CAPACITY, WORKERS_FAST, ...). */
export function poolVariables(pool: Pool) {
  const v = poolVariable(pool);
  return {
    queueCapacity: `${v}_QUEUE_CAPACITY`,
    replicas: `WORKERS_${v}`,
    autoscalerMin: `AUTOSCALER_${v}_MIN_SLOTS`,
    autoscalerMax: `AUTOSCALER_${v}_MAX_SLOTS`,
  } as const;
}

function poolSchema(pool: Pool): Record<string, z.ZodType<number, string | undefined>> {
  const names = poolVariables(pool);
  const def = poolDefinitions[pool];
  return {
    [names.queueCapacity]: integer({ min: 1, max: 10_000_000 }).default(def.queueCapacity),
    [names.replicas]: replicaCount.default(workerReplicas.min),
    [names.autoscalerMin]: integer({ min: 1, max: 10_000 }).default(def.slots.initial),
    [names.autoscalerMax]: integer({ min: 1, max: 10_000 }).default(def.slots.max),
  };
}

/** A cache's time to live: 0 (no cache) or a duration, at most an hour. */
const cacheTtl = z.string().transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined || ms > 3_600_000) {
    ctx.addIssue({ code: 'custom', message: 'expected 0 (off) or a duration up to 1h such as 500ms, 30s, 5m' });
    return z.NEVER;
  }
  return ms;
});

const fixedSchema = z.object({
  NATS_URL: natsUrls.optional(),
  NATS_USER: text.optional(),
  NATS_PASSWORD: text.optional(),
  NATS_CONNECT_TIMEOUT_MS: integer({ min: 100, max: 600_000 }).default(5_000),
  TPS_EXTERNAL_NATS: flag.default(false),
  /** Copies of every stream and bucket provisioning asks for: 1 on one server, 3 on a three-node cluster. */
  NATS_STREAM_REPLICAS: z.enum(['1', '3', '5'], { message: 'expected 1, 3 or 5 (copies of every stream; 3 on a three-node cluster)' }).transform(Number).optional(),
  /** `tps up`'s own NATS: one server, or a cluster of three on this machine (docs/nats-cluster.md). */
  TPS_NATS: z.enum(['single', 'cluster'], { message: 'expected single or cluster' }).default('single'),
  LOG_LEVEL: logLevel.default('info'),
  HTTP_HOST: text.default('127.0.0.1'),
  HTTP_PORT: integer({ min: 0, max: 65_535 }).optional(),
  TPS_PORT_OFFSET: integer({ min: 0, max: 50_000 }).default(0),
  /** Which version of its role this process is, and whether it runs as its service's canary (platform/canary.ts). */
  SERVICE_VERSION: versionName.default('v1'),
  DEPLOYMENT_TRACK: z.enum(deploymentTracks, { error: 'expected stable or canary' }).default('stable'),
  INSTANCE_ID: z.string().regex(/^[\w-]{1,64}$/, 'letters, digits, "_" or "-", at most 64').optional(),
  DLQ_CAPACITY: integer({ min: 1, max: 10_000_000 }).default(10_000),
  JOBS_DUPLICATE_WINDOW: durationMs.default(120_000),
  IDEMPOTENCY_TTL: durationMs.default(24 * 3_600_000),
  IDEMPOTENCY_MAX_BYTES: integer({ min: 16 * 1024, max: 64 * 1024 ** 3 }).default(256 * 1024 ** 2),
  MAX_BODY_BYTES: integer({ min: 256, max: 16 * 1024 * 1024 }).default(64 * 1024),
  RATE_LIMIT_RPS: integer({ min: 0, max: 1_000_000 }).default(2_000),
  PUBLISH_TIMEOUT_MS: durationMs.default(2_000),
  REQUEST_TIMEOUT_MS: durationMs.pipe(z.number().min(100, 'at least 100ms').max(600_000, 'at most 10m')).default(5_000),
  HEADERS_TIMEOUT_MS: durationMs.pipe(z.number().min(100, 'at least 100ms').max(600_000, 'at most 10m')).default(3_000),
  QUEUE_POLL_MS: integer({ min: 20, max: 60_000 }).default(250),
  SHUTDOWN_GRACE_MS: durationMs.default(10_000),
  TPS_STATE_DIR: text.default('.tps'),
  TPS_ROLE_BUILD: z.enum(['on', 'off'], { message: 'expected on or off' }).default('on'),
  TPS_INGRESS_URL: httpUrl.optional(),
  TPS_TARGETS: text.optional(),
  TPS_PROMETHEUS_URL: httpUrl.optional(),
  TPS_ADMIN_URL: httpUrl.optional(),
  TPS_ALERTMANAGER_URL: httpUrl.optional(),
  TPS_HISTORY_DIR: text.optional(),
  SERVICE_A_URL: httpUrl.optional(),
  SERVICE_B_URL: httpUrl.optional(),
  SERVICE_C_URL: httpUrl.optional(),
  WORK_SCALE: decimal({ min: 0, max: 100 }).default(1),
  CHAIN_CONCURRENCY: integer({ min: 1, max: 10_000 }).optional(),
  CHAIN_QUEUE: integer({ min: 0, max: 100_000 }).optional(),
  TIMEOUT_SERVICE_B_MS: durationMs.default(8_000),
  TIMEOUT_SERVICE_C_MS: durationMs.default(3_000),
  CACHE_SERVICE_B_MS: cacheTtl.default(0),
  CACHE_SERVICE_C_MS: cacheTtl.default(0),
  FALLBACK_SERVICE_B: flag.default(false),
  FALLBACK_SERVICE_C: flag.default(false),
  BREAKER_ERROR_PERCENT: integer({ min: 1, max: 100 }).default(50),
  BREAKER_VOLUME: integer({ min: 10, max: 100_000 }).default(10),
  BREAKER_WINDOW_MS: durationMs.default(10_000),
  BREAKER_RESET_MS: durationMs.default(15_000),
  WORKER_SLOTS: integer({ min: 1, max: 10_000 }).optional(),
  ACK_WAIT_MS: durationMs.optional(),
  HEARTBEAT_MS: durationMs.default(1_000),
  TPS_MONITORING: z.enum(['auto', 'off'], { error: 'expected auto or off' }).default('auto'),
  TPS_SCRAPE_INTERVAL: durationMs.pipe(z.number().min(1_000, 'at least 1s').max(300_000, 'at most 5m')).default(5_000),
  AUTOSCALER_ENABLED: flag.default(true),
  AUTOSCALER_TICK_MS: durationMs.default(5_000),
  AUTOSCALER_UP_UTILIZATION: integer({ min: 1, max: 100 }).default(80),
  AUTOSCALER_DOWN_UTILIZATION: integer({ min: 0, max: 99 }).default(20),
  AUTOSCALER_STEP_PERCENT: integer({ min: 10, max: 200 }).default(50),
  AUTOSCALER_QUEUE_THRESHOLD_PERCENT: integer({ min: 1, max: 100 }).default(10),
  AUTOSCALER_UP_AFTER_MS: durationMs.default(5_000),
  AUTOSCALER_DOWN_AFTER_MS: durationMs.default(30_000),
  AUTOSCALER_COOLDOWN_MS: durationMs.default(15_000),
  AUTOSCALER_MIN_GAIN_PERCENT: integer({ min: 1, max: 100 }).default(10),
  AUTOSCALER_BOTTLENECK_HOLD_MS: durationMs.default(300_000),
  ADMIN_API: flag.default(false),
  ADMIN_HOST: text.default('127.0.0.1'),
  ADMIN_PORT: integer({ min: 0, max: 65_535 }).optional(),
  ADMIN_TOKEN: text.optional(),
  ADMIN_RATE_LIMIT_RPS: integer({ min: 1, max: 100_000 }).default(20),
  GRAFANA_ADMIN_PASSWORD: text.optional(),
  GRAFANA_ANONYMOUS: flag.default(false),
  TPS_CONSOLE_OTLP_PORT: integer({ min: 0, max: 65_535 }).optional(),
  TPS_CONSOLE_OTLP_TOKEN: z.string().regex(/^[\w.~-]{16,200}$/, 'letters, digits, "_", ".", "~" or "-", 16 to 200 of them').optional(),
  TPS_CONSOLE_TRACES: integer({ min: 10, max: 100_000 }).default(2_000),
  TPS_JAEGER_UI_URL: httpUrl.optional(),
  TPS_JAEGER_URL: httpUrl.optional(),
});

export type Env = z.output<typeof fixedSchema> & Readonly<Record<string, unknown>>;
/** The fixed variables and every pool's own; zod cannot type keys made from the pool table, so the
 * pools' variables are typed where they are read (poolEnv). */
export const envSchema = fixedSchema.extend(Object.assign({}, ...poolNames.map(poolSchema)) as Record<string, z.ZodType<number, string | undefined>>) as unknown as z.ZodType<Env> & { readonly shape: Readonly<Record<string, unknown>> };

/** A pool's own variables, read from the parsed environment. */
export function poolEnv(env: Env, pool: Pool): { queueCapacity: number; replicas: number; autoscalerMin: number; autoscalerMax: number } {
  const names = poolVariables(pool);
  return {
    queueCapacity: env[names.queueCapacity] as number,
    replicas: env[names.replicas] as number,
    autoscalerMin: env[names.autoscalerMin] as number,
    autoscalerMax: env[names.autoscalerMax] as number,
  };
}


/** Every variable the configuration reads (docs/configuration.md documents each one). */
export const configVariables: readonly string[] = Object.keys(envSchema.shape);
