// Stand-in for the jaegertracing/jaeger image in `make test-compose`, where no image can be pulled.
// It keeps the published contracts the stack and the test rely on, nothing more:
//   - OTLP/HTTP receiver: POST /v1/traces in either encoding (protobuf, what the roles send by
//     default, read by the project's own decoder, copied beside this file into the image; or
//     JSON) on the receiver endpoint of jaeger/config.yaml (default 0.0.0.0:4318);
//   - Jaeger's query API on the jaeger_query endpoint (default 0.0.0.0:16686): GET /api/services,
//     /api/services/<service>/operations, /api/traces?service=&tags=&limit=, /api/traces/<id>, in
//     the JSON shape the Jaeger UI, Grafana's Jaeger datasource and the console read (typed tags;
//     `tags` a JSON object every key of which one span of the trace must carry with that value);
//   - the healthcheckv2 endpoint (default 0.0.0.0:13133): GET /status answers 200.
// Spans are kept in memory, bounded (the oldest traces go first), as memstore does.
// Run: node jaeger-standin.ts --config /etc/jaeger/config.yaml (the compose command, unchanged).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { decodeTraceExport } from './otlp-protobuf.ts';

type Attribute = { key: string; value: Record<string, unknown> };
type OtlpSpan = { traceId: string; spanId: string; parentSpanId?: string; name: string; kind?: number; startTimeUnixNano: string | number; endTimeUnixNano: string | number; attributes?: Attribute[] };
type OtlpBody = { resourceSpans?: Array<{ resource?: { attributes?: Attribute[] }; scopeSpans?: Array<{ spans?: OtlpSpan[] }> }> };
type Span = OtlpSpan & { service: string };

const maxTraces = 50_000;
const traces = new Map<string, Span[]>();

/** The three endpoints from jaeger/config.yaml, with the defaults its ${env:VAR:-default} gives. */
function endpoints(configPath: string | undefined): { otlp: string; query: string; health: string } {
  const text = configPath ? readFileSync(configPath, 'utf8') : '';
  const pick = (variable: string, fallback: string) => {
    const m = new RegExp(`\\$\\{env:${variable}:-([^}]+)\\}`).exec(text);
    return process.env[variable] ?? m?.[1] ?? fallback;
  };
  return {
    otlp: pick('JAEGER_OTLP_HTTP_ENDPOINT', '0.0.0.0:4318'),
    query: pick('JAEGER_UI_ENDPOINT', '0.0.0.0:16686'),
    health: pick('JAEGER_HEALTH_ENDPOINT', '0.0.0.0:13133'),
  };
}

function attributeValue(v: Record<string, unknown>): unknown {
  return v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue ?? JSON.stringify(v);
}

/** A tag as Jaeger's JSON types it: int64 and float64 as numbers, bool, else string. */
function jaegerTag(a: Attribute): { key: string; type: string; value: unknown } {
  if (a.value.intValue !== undefined) return { key: a.key, type: 'int64', value: Number(a.value.intValue) };
  if (a.value.doubleValue !== undefined) return { key: a.key, type: 'float64', value: a.value.doubleValue };
  if (a.value.boolValue !== undefined) return { key: a.key, type: 'bool', value: a.value.boolValue };
  return { key: a.key, type: 'string', value: String(attributeValue(a.value)) };
}

function record(body: OtlpBody): number {
  let count = 0;
  for (const rs of body.resourceSpans ?? []) {
    const service = String(attributeValue(rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value ?? { stringValue: 'unknown_service' }));
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) {
        const list = traces.get(span.traceId) ?? [];
        if (list.length === 0) traces.set(span.traceId, list);
        list.push({ ...span, service });
        count += 1;
      }
    }
  }
  while (traces.size > maxTraces) traces.delete(traces.keys().next().value as string);
  return count;
}

/** One trace in the JSON shape of Jaeger's /api/traces. */
function jaegerTrace(traceId: string, spans: Span[]) {
  const services = [...new Set(spans.map((s) => s.service))];
  const micros = (nanos: string | number) => Number(BigInt(nanos) / 1000n);
  return {
    traceID: traceId,
    spans: spans.map((s) => ({
      traceID: traceId, spanID: s.spanId, operationName: s.name,
      references: s.parentSpanId ? [{ refType: 'CHILD_OF', traceID: traceId, spanID: s.parentSpanId }] : [],
      startTime: micros(s.startTimeUnixNano), duration: micros(s.endTimeUnixNano) - micros(s.startTimeUnixNano),
      tags: (s.attributes ?? []).map(jaegerTag),
      processID: `p${services.indexOf(s.service) + 1}`,
    })),
    processes: Object.fromEntries(services.map((name, i) => [`p${i + 1}`, { serviceName: name, tags: [] }])),
    warnings: null,
  };
}

function query(url: URL): { status: number; body: unknown } {
  const envelope = (data: unknown[]) => ({ status: 200, body: { data, total: data.length, limit: 0, offset: 0, errors: null } });
  const all = [...traces.values()].flat();
  if (url.pathname === '/api/services') return envelope([...new Set(all.map((s) => s.service))].sort());
  const ops = /^\/api\/services\/([^/]+)\/operations$/.exec(url.pathname);
  if (ops) return envelope([...new Set(all.filter((s) => s.service === decodeURIComponent(ops[1] ?? '')).map((s) => s.name))].sort());
  const one = /^\/api\/traces\/([0-9a-f]+)$/.exec(url.pathname);
  if (one) {
    const spans = traces.get(one[1] ?? '');
    return spans ? envelope([jaegerTrace(one[1] ?? '', spans)]) : { status: 404, body: { data: null, errors: [{ code: 404, msg: 'trace not found' }] } };
  }
  if (url.pathname === '/api/traces') {
    const service = url.searchParams.get('service');
    if (!service) return { status: 400, body: { data: null, errors: [{ code: 400, msg: 'parameter \'service\' is required' }] } };
    const limit = Number(url.searchParams.get('limit') ?? 20);
    let tags: Record<string, string> = {};
    try { tags = JSON.parse(url.searchParams.get('tags') ?? '{}') as Record<string, string>; } catch { return { status: 400, body: { data: null, errors: [{ code: 400, msg: 'malformed \'tags\' parameter' }] } }; }
    const tagged = (span: Span) => Object.entries(tags).every(([k, v]) => (span.attributes ?? []).some((a) => a.key === k && String(attributeValue(a.value)) === v));
    const found = [...traces.entries()].filter(([, spans]) => spans.some((s) => s.service === service) && spans.some(tagged)).slice(-limit).reverse();
    return envelope(found.map(([id, spans]) => jaegerTrace(id, spans)));
  }
  return { status: 404, body: { data: null, errors: [{ code: 404, msg: `no route ${url.pathname}` }] } };
}

function serve(endpoint: string, handle: (req: http.IncomingMessage, body: Buffer) => { status: number; body: unknown; type?: string }): void {
  const [host, port] = [endpoint.slice(0, endpoint.lastIndexOf(':')), Number(endpoint.slice(endpoint.lastIndexOf(':') + 1))];
  http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => { chunks.push(chunk); });
    req.on('end', () => {
      let answer: { status: number; body: unknown; type?: string };
      try { answer = handle(req, Buffer.concat(chunks)); } catch (err) { answer = { status: 400, body: { error: (err as Error).message } }; }
      const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
      res.writeHead(answer.status, { 'content-type': answer.type ?? 'application/json' }).end(text);
    });
  }).listen(port, host);
}

const configAt = process.argv.indexOf('--config');
const where = endpoints(configAt >= 0 ? process.argv[configAt + 1] : undefined);
serve(where.otlp, (req, body) => {
  if (req.method !== 'POST' || req.url !== '/v1/traces') return { status: 404, body: { error: 'POST /v1/traces only' } };
  const type = String(req.headers['content-type']).split(';')[0];
  // Answered in the request's encoding, as OTLP/HTTP wants: an empty response message.
  if (type === 'application/x-protobuf') {
    record(decodeTraceExport(body) as OtlpBody);
    return { status: 200, type: 'application/x-protobuf', body: '' };
  }
  if (type === 'application/json') record(JSON.parse(body.toString('utf8')) as OtlpBody);
  else return { status: 415, body: { error: 'OTLP/HTTP comes as application/x-protobuf or application/json' } };
  return { status: 200, body: {} };
});
serve(where.query, (req) => {
  const url = new URL(req.url ?? '/', 'http://stand-in');
  if (!url.pathname.startsWith('/api/')) return { status: 200, type: 'text/html', body: '<!doctype html><title>Jaeger (stand-in)</title><p>Jaeger stand-in of the TPS Lab Docker test: query API under /api/.</p>' };
  return query(url);
});
serve(where.health, (req) => (req.url === '/status' ? { status: 200, body: { status: 'StatusOK' } } : { status: 404, body: {} }));
console.log(`jaeger stand-in: OTLP/HTTP ${where.otlp}, query ${where.query}, health ${where.health}`);
// As PID 1 of its container, a process ignores SIGTERM unless it handles it: Jaeger stops at once,
// so must its stand-in (else a `docker stop`, or Docker stopping, waits 10 s and kills it).
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
