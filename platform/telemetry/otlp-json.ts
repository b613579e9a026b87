// The OTLP/HTTP JSON encoding of a trace export (what @opentelemetry/exporter-trace-otlp-http sends
// to /v1/traces, and what Jaeger's port 4318 accepts), read into flat spans: the service from the
// resource, attributes as plain values, times in milliseconds. One home for the format: the
// console's own receiver and the tests' receiver both read it here.
import { z } from 'zod';

const anyValue: z.ZodType<unknown> = z.lazy(() => z.object({
  stringValue: z.string().optional(),
  boolValue: z.boolean().optional(),
  intValue: z.union([z.string(), z.number()]).optional(),
  doubleValue: z.number().optional(),
  arrayValue: z.object({ values: z.array(anyValue).optional() }).optional(),
}));
const keyValues = z.array(z.object({ key: z.string(), value: anyValue })).optional();
const nanos = z.union([z.string().regex(/^\d{1,20}$/), z.number().int().nonnegative()]);
const spanSchema = z.object({
  traceId: z.string().regex(/^[0-9a-f]{32}$/),
  spanId: z.string().regex(/^[0-9a-f]{16}$/),
  parentSpanId: z.string().optional(),
  name: z.string(),
  kind: z.number().int(),
  startTimeUnixNano: nanos,
  endTimeUnixNano: nanos,
  attributes: keyValues,
  status: z.object({ code: z.number().int().optional(), message: z.string().optional() }).optional(),
  events: z.array(z.object({ name: z.string(), attributes: keyValues })).optional(),
  links: z.array(z.object({ traceId: z.string(), spanId: z.string() })).optional(),
});
export const otlpExportRequest = z.object({
  resourceSpans: z.array(z.object({
    resource: z.object({ attributes: keyValues }).optional(),
    scopeSpans: z.array(z.object({ scope: z.object({ name: z.string() }).optional(), spans: z.array(spanSchema).optional() })).optional(),
  })).optional(),
});
export type OtlpExportRequest = z.output<typeof otlpExportRequest>;

export const spanKind = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;
export const statusCode = { unset: 0, ok: 1, error: 2 } as const;

export type ReceivedSpan = {
  service: string;
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  /** Unix milliseconds (fractional). */
  startMs: number;
  durationMs: number;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
};

function flatValue(v: unknown): unknown {
  const value = v as { stringValue?: string; boolValue?: boolean; intValue?: string | number; doubleValue?: number; arrayValue?: { values?: unknown[] } };
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(flatValue);
  return undefined;
}

function flatten(attributes: z.output<typeof keyValues>): Record<string, unknown> {
  return Object.fromEntries((attributes ?? []).map((a) => [a.key, flatValue(a.value)]));
}

/** Nanoseconds as milliseconds; BigInt first, as a number loses the nanoseconds of a Unix time. */
const toMs = (ns: string | number): number => Number(BigInt(ns) / 1000n) / 1000;

export function spansOf(body: OtlpExportRequest): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const service = String(flatten(rs.resource?.attributes)['service.name'] ?? '');
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          service, scope: ss.scope?.name ?? '', traceId: s.traceId, spanId: s.spanId,
          parentSpanId: s.parentSpanId || undefined, name: s.name, kind: s.kind,
          startMs: toMs(s.startTimeUnixNano),
          durationMs: Number(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)) / 1e6,
          attributes: flatten(s.attributes), status: { code: s.status?.code ?? 0, ...(s.status?.message ? { message: s.status.message } : {}) },
          events: (s.events ?? []).map((e) => ({ name: e.name, attributes: flatten(e.attributes) })),
        });
      }
    }
  }
  return out;
}
