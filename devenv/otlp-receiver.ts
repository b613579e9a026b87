// An OTLP/HTTP trace receiver for tests (Jaeger cannot run here): POST /v1/traces with the
// OTLP JSON encoding, as Jaeger's port 4318 accepts it. Every span received is kept, flattened,
// with its service name, so a test can rebuild a trace and walk its parent/child chain.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

const anyValue: z.ZodType<unknown> = z.lazy(() => z.object({
  stringValue: z.string().optional(),
  boolValue: z.boolean().optional(),
  intValue: z.union([z.string(), z.number()]).optional(),
  doubleValue: z.number().optional(),
  arrayValue: z.object({ values: z.array(anyValue).optional() }).optional(),
}));
const keyValues = z.array(z.object({ key: z.string(), value: anyValue })).optional();
const spanSchema = z.object({
  traceId: z.string().regex(/^[0-9a-f]{32}$/),
  spanId: z.string().regex(/^[0-9a-f]{16}$/),
  parentSpanId: z.string().optional(),
  name: z.string(),
  kind: z.number().int(),
  startTimeUnixNano: z.union([z.string(), z.number()]),
  endTimeUnixNano: z.union([z.string(), z.number()]),
  attributes: keyValues,
  status: z.object({ code: z.number().int().optional(), message: z.string().optional() }).optional(),
  events: z.array(z.object({ name: z.string(), attributes: keyValues })).optional(),
  links: z.array(z.object({ traceId: z.string(), spanId: z.string() })).optional(),
});
const exportRequest = z.object({
  resourceSpans: z.array(z.object({
    resource: z.object({ attributes: keyValues }).optional(),
    scopeSpans: z.array(z.object({ scope: z.object({ name: z.string() }).optional(), spans: z.array(spanSchema).optional() })).optional(),
  })).optional(),
});

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
  durationMs: number;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
};

export type OtlpReceiver = {
  /** The base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  spans: ReceivedSpan[];
  /** Export requests received (including empty ones) and requests refused as malformed. */
  requests: number;
  problems: string[];
  trace(traceId: string): ReceivedSpan[];
  close(): Promise<void>;
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

function toSpans(body: z.output<typeof exportRequest>): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const service = String(flatten(rs.resource?.attributes)['service.name'] ?? '');
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          service, scope: ss.scope?.name ?? '', traceId: s.traceId, spanId: s.spanId,
          parentSpanId: s.parentSpanId || undefined, name: s.name, kind: s.kind,
          durationMs: Number(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)) / 1e6,
          attributes: flatten(s.attributes), status: { code: s.status?.code ?? 0, ...(s.status?.message ? { message: s.status.message } : {}) },
          events: (s.events ?? []).map((e) => ({ name: e.name, attributes: flatten(e.attributes) })),
        });
      }
    }
  }
  return out;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const receiver: Omit<OtlpReceiver, 'url' | 'close'> = {
    spans: [], requests: 0, problems: [],
    trace: (traceId) => receiver.spans.filter((s) => s.traceId === traceId),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      receiver.requests += 1;
      const refuse = (status: number, why: string) => { receiver.problems.push(why); res.writeHead(status).end(why); };
      if (req.method !== 'POST' || req.url !== '/v1/traces') return refuse(404, `${req.method} ${req.url}`);
      if (!String(req.headers['content-type']).startsWith('application/json')) return refuse(415, `content-type ${req.headers['content-type']}`);
      const parsed = exportRequest.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      if (!parsed.success) return refuse(400, parsed.error.message);
      receiver.spans.push(...toSpans(parsed.data));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ...receiver,
    get spans() { return receiver.spans; },
    get requests() { return receiver.requests; },
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
