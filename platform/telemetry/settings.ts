// What the telemetry preload does, decided from the standard OTEL_* variables alone (the SDK's own
// configuration; platform/config.ts reads the project's variables, this reads only OTEL_*).
// Tracing is on when an OTLP endpoint or a traces exporter is configured and the SDK is not
// disabled; otherwise the SDK is never loaded, so tracing off costs nothing.
import { z } from 'zod';
import { decimal, httpUrl, integer, text, unset } from '../config-types.ts';

const exporterNames = z.enum(['otlp', 'console', 'none']);
const samplerNames = z.enum(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio']);
const diagLevels = z.enum(['none', 'error', 'warn', 'info', 'debug', 'verbose', 'all']);

const flag = z.string().transform((v) => v.toLowerCase()).pipe(z.enum(['true', 'false'], { message: 'expected true or false' }));
const exporterList = z.string().transform((v) => v.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)).pipe(z.array(exporterNames).min(1));
const propagatorList = z.string().transform((v) => v.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean))
  .pipe(z.array(z.enum(['tracecontext', 'baggage', 'none'], { message: 'supported: tracecontext, baggage, none' })).min(1));
// OTLP over HTTP, protobuf bodies by default (the specification's default; about 11 % less CPU
// and 40 % of the bytes of JSON per span: docs/benchmarks.md) or JSON; Jaeger's port 4318
// and the console's receiver take both. No gRPC exporter is loaded.
const protocol = z.enum(['http/protobuf', 'http/json'], { message: 'this build exports OTLP over HTTP: set http/protobuf (the default) or http/json' });

const otelSchema = z.object({
  OTEL_SDK_DISABLED: flag.optional(),
  OTEL_TRACES_EXPORTER: exporterList.optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: httpUrl.optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: protocol.optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol.optional(),
  OTEL_SERVICE_NAME: text.optional(),
  OTEL_RESOURCE_ATTRIBUTES: text.optional(),
  OTEL_TRACES_SAMPLER: samplerNames.optional(),
  OTEL_TRACES_SAMPLER_ARG: decimal({ min: 0, max: 1 }).optional(),
  OTEL_PROPAGATORS: propagatorList.optional(),
  OTEL_BSP_SCHEDULE_DELAY: integer({ min: 1, max: 600_000 }).default(5_000),
  OTEL_BSP_EXPORT_TIMEOUT: integer({ min: 1, max: 600_000 }).default(30_000),
  OTEL_BSP_MAX_QUEUE_SIZE: integer({ min: 1, max: 1_000_000 }).default(2_048),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: integer({ min: 1, max: 1_000_000 }).default(512),
  OTEL_LOG_LEVEL: z.string().transform((v) => v.toLowerCase()).pipe(diagLevels).default('warn'),
});

/** Every OTEL_* variable telemetry reads (docs/configuration.md lists each in its own table).
 * The exporter also reads the rest of the standard OTEL_EXPORTER_OTLP_* family (headers,
 * timeout, compression, certificates) itself. */
export const telemetryVariables: readonly string[] = Object.keys(otelSchema.shape);

export type TracingSettings = {
  readonly enabled: boolean;
  /** Why tracing is on or off, for the start log line. */
  readonly reason: string;
  readonly serviceName: string;
  readonly serviceVersion: string;
  readonly track: string;
  readonly exporters: readonly ('otlp' | 'console')[];
  /** Where spans go (the exporter itself reads the OTEL_EXPORTER_OTLP_* variables). */
  readonly endpoint: string | undefined;
  /** The body encoding of the OTLP/HTTP export. */
  readonly protocol: z.output<typeof protocol>;
  readonly sampler: z.output<typeof samplerNames>;
  readonly samplerRatio: number;
  readonly propagators: readonly ('tracecontext' | 'baggage')[];
  readonly batch: { scheduledDelayMillis: number; exportTimeoutMillis: number; maxQueueSize: number; maxExportBatchSize: number };
  readonly diagLevel: z.output<typeof diagLevels>;
};

export class TelemetryConfigError extends Error {
  constructor(problems: string[]) {
    super(`Invalid telemetry configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'TelemetryConfigError';
  }
}

/** `tps run <role>` names the service when OTEL_SERVICE_NAME does not. */
export function serviceNameFromArgv(argv: readonly string[]): string | undefined {
  const at = argv.indexOf('run');
  const role = at >= 0 ? argv[at + 1] : undefined;
  return role && /^[\w-]+$/.test(role) ? role : undefined;
}

export function tracingSettings(env: NodeJS.ProcessEnv, argv: readonly string[] = []): TracingSettings {
  const raw = Object.fromEntries(telemetryVariables.map((k) => [k, unset(env[k])]));
  const parsed = otelSchema.safeParse(raw);
  if (!parsed.success) {
    throw new TelemetryConfigError(parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? '(environment)');
      return `${name}=${JSON.stringify(env[name] ?? '')}: ${i.message}`;
    }));
  }
  const e = parsed.data;
  const endpoint = e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (e.OTEL_EXPORTER_OTLP_ENDPOINT ? `${e.OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces` : undefined);
  const requested = e.OTEL_TRACES_EXPORTER ?? (endpoint ? ['otlp' as const] : []);
  const exporters = requested.includes('none') ? [] : requested.filter((x) => x !== 'none');
  const { enabled, reason } = decide(e.OTEL_SDK_DISABLED === 'true', e.OTEL_TRACES_EXPORTER, exporters.length > 0, endpoint);
  return {
    enabled,
    reason,
    serviceName: e.OTEL_SERVICE_NAME ?? serviceNameFromArgv(argv) ?? 'tps',
    // The role's version and track (platform/canary.ts; validated by the role's own configuration).
    serviceVersion: unset(env.SERVICE_VERSION) ?? 'v1',
    track: unset(env.DEPLOYMENT_TRACK) ?? 'stable',
    exporters,
    endpoint: exporters.includes('otlp') ? (endpoint ?? 'http://localhost:4318/v1/traces') : undefined,
    protocol: e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
    sampler: e.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on',
    samplerRatio: e.OTEL_TRACES_SAMPLER_ARG ?? 1,
    propagators: (e.OTEL_PROPAGATORS ?? ['tracecontext', 'baggage']).filter((p) => p !== 'none'),
    batch: {
      scheduledDelayMillis: e.OTEL_BSP_SCHEDULE_DELAY,
      exportTimeoutMillis: e.OTEL_BSP_EXPORT_TIMEOUT,
      maxQueueSize: e.OTEL_BSP_MAX_QUEUE_SIZE,
      maxExportBatchSize: Math.min(e.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, e.OTEL_BSP_MAX_QUEUE_SIZE),
    },
    diagLevel: e.OTEL_LOG_LEVEL,
  };
}

function decide(disabled: boolean, exporterVar: readonly string[] | undefined, anyExporter: boolean, endpoint: string | undefined): { enabled: boolean; reason: string } {
  if (disabled) return { enabled: false, reason: 'OTEL_SDK_DISABLED=true' };
  if (exporterVar && !anyExporter) return { enabled: false, reason: 'OTEL_TRACES_EXPORTER=none' };
  if (exporterVar) return { enabled: true, reason: `OTEL_TRACES_EXPORTER=${exporterVar.join(',')}` };
  if (endpoint) return { enabled: true, reason: 'an OTLP endpoint is set' };
  return { enabled: false, reason: 'no OTLP endpoint set (OTEL_EXPORTER_OTLP_ENDPOINT)' };
}
