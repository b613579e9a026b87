// The only reader of process.env. Every role loads the whole configuration once at start;
// every problem is reported at once, naming the variable, and the result is frozen.
import os from 'node:os';
import { envSchema, poolEnv, poolVariables, type Env } from './config-schema.ts';
import { unset } from './config-types.ts';
import { poolDefinitions, poolNames, type Pool } from './pools.ts';
import { defaultPorts } from './ports.ts';

export { configVariables } from './config-schema.ts';

function crossFieldProblems(env: Env): string[] {
  const problems: string[] = [];
  if (env.HEADERS_TIMEOUT_MS > env.REQUEST_TIMEOUT_MS) {
    // Node refuses a headers timeout longer than the request's (the headers are part of the request).
    problems.push(`HEADERS_TIMEOUT_MS=${env.HEADERS_TIMEOUT_MS} must not be above REQUEST_TIMEOUT_MS=${env.REQUEST_TIMEOUT_MS} (the headers are part of the request)`);
  }
  if (env.TIMEOUT_SERVICE_C_MS >= env.TIMEOUT_SERVICE_B_MS) {
    problems.push(
      `TIMEOUT_SERVICE_C_MS=${env.TIMEOUT_SERVICE_C_MS} must be below TIMEOUT_SERVICE_B_MS=${env.TIMEOUT_SERVICE_B_MS} ` +
        '(each hop must give up before its caller does, or a slow service-c cascades)',
    );
  }
  if (env.IDEMPOTENCY_TTL < env.JOBS_DUPLICATE_WINDOW) {
    problems.push(`IDEMPOTENCY_TTL=${env.IDEMPOTENCY_TTL} must not be below JOBS_DUPLICATE_WINDOW=${env.JOBS_DUPLICATE_WINDOW} (a key is honoured at least as long as JetStream dedupes)`);
  }
  problems.push(...autoscalerProblems(env));
  if ((env.NATS_USER === undefined) !== (env.NATS_PASSWORD === undefined)) {
    problems.push('NATS_USER and NATS_PASSWORD must be set together');
  }
  if (env.TPS_CONSOLE_OTLP_PORT !== undefined && env.TPS_CONSOLE_OTLP_TOKEN === undefined) {
    problems.push('TPS_CONSOLE_OTLP_PORT needs TPS_CONSOLE_OTLP_TOKEN: the console receives traces only from roles that send its token (tps up sets both)');
  }
  return problems;
}

function autoscalerProblems(env: Env): string[] {
  const problems: string[] = [];
  if (env.AUTOSCALER_DOWN_UTILIZATION >= env.AUTOSCALER_UP_UTILIZATION) {
    problems.push(
      `AUTOSCALER_DOWN_UTILIZATION=${env.AUTOSCALER_DOWN_UTILIZATION} must be below AUTOSCALER_UP_UTILIZATION=${env.AUTOSCALER_UP_UTILIZATION} ` +
        '(the gap between them is what keeps the autoscaler from flapping)',
    );
  }
  for (const pool of poolNames) {
    const { autoscalerMin: min, autoscalerMax: max } = poolEnv(env, pool);
    const names = poolVariables(pool);
    const limits = poolDefinitions[pool].slots;
    if (min > max) problems.push(`${names.autoscalerMin}=${min} must not be above ${names.autoscalerMax}=${max}`);
    if (min < limits.min || max > limits.max) {
      problems.push(`${names.autoscalerMin} / ${names.autoscalerMax} (${min}..${max}) must stay within the ${pool} pool's ${limits.min}..${limits.max} slots`);
    }
  }
  return problems;
}

function perPool<T>(value: (pool: Pool) => T): Readonly<Record<Pool, T>> {
  return Object.fromEntries(poolNames.map((pool) => [pool, value(pool)])) as Record<Pool, T>;
}

function shape(env: Env) {
  return {
    nats: natsSettings(env),
    log: { level: env.LOG_LEVEL },
    /** The timeouts bound how long a client may take to *send* a request (slowloris), not the answer. */
    http: { host: env.HTTP_HOST, port: env.HTTP_PORT, portOffset: env.TPS_PORT_OFFSET, requestTimeoutMs: env.REQUEST_TIMEOUT_MS, headersTimeoutMs: env.HEADERS_TIMEOUT_MS },
    deployment: { version: env.SERVICE_VERSION, track: env.DEPLOYMENT_TRACK },
    instanceId: env.INSTANCE_ID ?? `${os.hostname().replace(/[^\w-]/g, '-').slice(0, 40)}-${process.pid}`,
    queues: {
      /** `max_msgs` of each pool's stream (<POOL>_QUEUE_CAPACITY). */
      capacity: perPool((pool) => poolEnv(env, pool).queueCapacity),
      dlqCapacity: env.DLQ_CAPACITY,
    },
    /** Keys are honoured ttlMs (a bucket that never evicts); JetStream dedupes job ids for duplicateWindowMs. */
    idempotency: { ttlMs: env.IDEMPOTENCY_TTL, maxBytes: env.IDEMPOTENCY_MAX_BYTES, duplicateWindowMs: env.JOBS_DUPLICATE_WINDOW },
    ingress: {
      maxBodyBytes: env.MAX_BODY_BYTES,
      rateLimitPerSecond: env.RATE_LIMIT_RPS,
      publishTimeoutMs: env.PUBLISH_TIMEOUT_MS,
      queuePollMs: env.QUEUE_POLL_MS,
    },
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    stateDir: env.TPS_STATE_DIR,
    /** `tps up` runs the roles from their build (operator/supervisor/role-build.ts), or from source. */
    roleBuild: env.TPS_ROLE_BUILD === 'on',
    /** Where operator commands find a stack that is not this machine's `tps up` (the compose tools
     * container sets both): the ingress, and the roles' metrics as role=url pairs. */
    operator: { ingressUrl: env.TPS_INGRESS_URL, targets: env.TPS_TARGETS, prometheusUrl: env.TPS_PROMETHEUS_URL ?? `http://127.0.0.1:${defaultPorts.prometheus + env.TPS_PORT_OFFSET}`, historyDir: env.TPS_HISTORY_DIR,
      /** The admin API the console acts through (compose: the autoscaler's, http://autoscaler:9467). */
      adminUrl: env.TPS_ADMIN_URL ?? `http://127.0.0.1:${env.ADMIN_PORT ?? defaultPorts.admin + env.TPS_PORT_OFFSET}`,
      /** The Alertmanager whose alerts the console shows and silences (compose: http://alertmanager:9093). */
      alertmanagerUrl: env.TPS_ALERTMANAGER_URL ?? `http://127.0.0.1:${defaultPorts.alertmanager + env.TPS_PORT_OFFSET}` },
    chain: chainSettings(env),
    breakers: {
      errorThresholdPercentage: env.BREAKER_ERROR_PERCENT,
      volumeThreshold: env.BREAKER_VOLUME,
      rollingWindowMs: env.BREAKER_WINDOW_MS,
      resetTimeoutMs: env.BREAKER_RESET_MS,
    },
    workers: workerSettings(env),
    monitoring: { mode: env.TPS_MONITORING, scrapeIntervalMs: env.TPS_SCRAPE_INTERVAL },
    autoscaler: autoscalerSettings(env),
    admin: { enabled: env.ADMIN_API, host: env.ADMIN_HOST, port: env.ADMIN_PORT, token: env.ADMIN_TOKEN, rateLimitPerSecond: env.ADMIN_RATE_LIMIT_RPS },
    /** The console's own OTLP receiver (`tps up` turns it on where no Jaeger listens) and where Jaeger's UI is, for links. */
    console: { otlpPort: env.TPS_CONSOLE_OTLP_PORT, otlpToken: env.TPS_CONSOLE_OTLP_TOKEN, maxTraces: env.TPS_CONSOLE_TRACES, jaegerUiUrl: env.TPS_JAEGER_UI_URL, jaegerUrl: env.TPS_JAEGER_URL },
    /** Native mode's Grafana: the admin password (else one generated into the state folder) and anonymous viewing. */
    grafana: { adminPassword: env.GRAFANA_ADMIN_PASSWORD, anonymous: env.GRAFANA_ANONYMOUS },
  };
}

function natsSettings(env: Env) {
  return {
    servers: env.NATS_URL ?? [`nats://127.0.0.1:${defaultPorts.nats + env.TPS_PORT_OFFSET}`],
    /** NATS_URL was set: `tps up` starts its nats-server exactly there (or refuses), never elsewhere. */
    urlGiven: env.NATS_URL !== undefined,
    /** `tps up` uses the server at NATS_URL as it is, instead of its own with the per-role users. */
    external: env.TPS_EXTERNAL_NATS,
    user: env.NATS_USER,
    password: env.NATS_PASSWORD,
    connectTimeoutMs: env.NATS_CONNECT_TIMEOUT_MS,
    /** `tps up` starts one nats-server, or three as a cluster (TPS_NATS, `make up NATS=cluster`). */
    mode: env.TPS_NATS,
    /** Replicas of every stream and KV bucket `tps provision` declares (NATS_STREAM_REPLICAS): 3 on `tps up`'s cluster, else 1. */
    streamReplicas: env.NATS_STREAM_REPLICAS ?? (env.TPS_NATS === 'cluster' ? 3 : 1),
  };
}

function chainSettings(env: Env) {
  return {
    urls: {
      'service-a': env.SERVICE_A_URL ?? `http://127.0.0.1:${8081 + env.TPS_PORT_OFFSET}`,
      'service-b': env.SERVICE_B_URL ?? `http://127.0.0.1:${8082 + env.TPS_PORT_OFFSET}`,
      'service-c': env.SERVICE_C_URL ?? `http://127.0.0.1:${8083 + env.TPS_PORT_OFFSET}`,
    },
    workScale: env.WORK_SCALE,
    concurrency: env.CHAIN_CONCURRENCY,
    queue: env.CHAIN_QUEUE,
    timeouts: { 'service-b': env.TIMEOUT_SERVICE_B_MS, 'service-c': env.TIMEOUT_SERVICE_C_MS },
    /** Answers of the next hop kept this long per job type (0: none); live: `tps config set cache.<service>`. */
    cacheMs: { 'service-b': env.CACHE_SERVICE_B_MS, 'service-c': env.CACHE_SERVICE_C_MS },
    /** Whether a hop answers without its failing next hop; live: `tps config set fallback.<service>`. */
    fallback: { 'service-b': env.FALLBACK_SERVICE_B, 'service-c': env.FALLBACK_SERVICE_C },
  };
}

function workerSettings(env: Env) {
  return {
    slots: env.WORKER_SLOTS,
    ackWaitMs: env.ACK_WAIT_MS,
    heartbeatMs: env.HEARTBEAT_MS,
    /** Worker processes per pool the native supervisor starts (`tps scale --replicas` changes it live). */
    replicas: perPool((pool) => poolEnv(env, pool).replicas),
  };
}

/** The percentages of the environment become fractions here (AUTOSCALER_UP_UTILIZATION=80 -> 0.8). */
function autoscalerSettings(env: Env) {
  return {
    enabled: env.AUTOSCALER_ENABLED,
    tickMs: env.AUTOSCALER_TICK_MS,
    upUtilization: env.AUTOSCALER_UP_UTILIZATION / 100,
    downUtilization: env.AUTOSCALER_DOWN_UTILIZATION / 100,
    step: env.AUTOSCALER_STEP_PERCENT / 100,
    queueThreshold: env.AUTOSCALER_QUEUE_THRESHOLD_PERCENT / 100,
    upAfterMs: env.AUTOSCALER_UP_AFTER_MS,
    downAfterMs: env.AUTOSCALER_DOWN_AFTER_MS,
    cooldownMs: env.AUTOSCALER_COOLDOWN_MS,
    minGain: env.AUTOSCALER_MIN_GAIN_PERCENT / 100,
    bottleneckHoldMs: env.AUTOSCALER_BOTTLENECK_HOLD_MS,
    slots: perPool((pool) => ({ min: poolEnv(env, pool).autoscalerMin, max: poolEnv(env, pool).autoscalerMax })),
  };
}

export type Config = Readonly<ReturnType<typeof shape>>;

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** The environment for a child process: this process's environment plus overrides. */
export function childEnvironment(overrides: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return { ...process.env, ...overrides };
}

/** Reads and validates the environment; throws ConfigError listing every bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const raw = Object.fromEntries(Object.keys(envSchema.shape).map((k) => [k, unset(source[k])]));
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '(environment)');
        return `${name}=${JSON.stringify(source[name] ?? '')}: ${issue.message}`;
      }),
    );
  }
  const problems = crossFieldProblems(parsed.data);
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(shape(parsed.data));
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
