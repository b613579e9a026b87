// A job's trace from Jaeger's query API (compose, or a Jaeger natively), in the same flat spans the
// console's own receiver keeps, so one waterfall draws both: GET /api/traces with the ingress as
// the service and the job's id as the tag every span of its messages carries, the JSON the Jaeger
// UI reads (times in microseconds, typed tags, parents as CHILD_OF references). The name is
// resolved by platform/dns.ts (platform/http/bounded-request.ts): in compose Jaeger is a container.
import { z } from 'zod';
import { boundedRequest } from '#platform/http/bounded-request.ts';
import { spanKind, statusCode, type ReceivedSpan } from '#platform/telemetry/otlp-json.ts';

const tagSchema = z.object({ key: z.string(), type: z.string().optional(), value: z.unknown() });
const traceSchema = z.object({
  traceID: z.string(),
  spans: z.array(z.object({
    traceID: z.string(), spanID: z.string(), operationName: z.string(), processID: z.string(),
    references: z.array(z.object({ refType: z.string(), spanID: z.string() })).nullish(),
    startTime: z.number(), duration: z.number(), tags: z.array(tagSchema).nullish(),
  })),
  processes: z.record(z.string(), z.object({ serviceName: z.string() })),
});
const answerSchema = z.object({ data: z.array(traceSchema).nullish() });

const kinds: Record<string, number> = { server: spanKind.server, client: spanKind.client, producer: spanKind.producer, consumer: spanKind.consumer, internal: spanKind.internal };

function toSpans(trace: z.infer<typeof traceSchema>): ReceivedSpan[] {
  return trace.spans.map((s) => {
    const attributes = Object.fromEntries((s.tags ?? []).map((t) => [t.key, t.type === 'int64' || t.type === 'float64' ? Number(t.value) : t.value]));
    const failed = attributes['otel.status_code'] === 'ERROR' || attributes.error === true;
    return {
      service: trace.processes[s.processID]?.serviceName ?? '', scope: String(attributes['otel.scope.name'] ?? attributes['otel.library.name'] ?? ''),
      traceId: s.traceID, spanId: s.spanID, parentSpanId: s.references?.find((r) => r.refType === 'CHILD_OF')?.spanID,
      name: s.operationName, kind: kinds[String(attributes['span.kind'] ?? 'internal')] ?? spanKind.internal,
      startMs: s.startTime / 1000, durationMs: s.duration / 1000, attributes,
      status: failed ? { code: statusCode.error, message: String(attributes['otel.status_description'] ?? '') } : { code: statusCode.unset },
      events: [],
    };
  });
}

/** The traces whose spans name this job (a replayed job's new trace names its new id), newest first. */
export async function jaegerTracesOfJob(apiUrl: string, jobId: string): Promise<{ traceIds: string[]; spans: ReceivedSpan[] } | { error: string }> {
  const query = new URLSearchParams({ service: 'ingress', tags: JSON.stringify({ 'messaging.message.id': jobId }), limit: '5', lookback: '2h' });
  try {
    const res = await boundedRequest(`${apiUrl}/api/traces?${query}`, { timeoutMs: 3_000 });
    if (res.status !== 200) return { error: `Jaeger answered ${res.status}` };
    const traces = answerSchema.parse(JSON.parse(res.text)).data ?? [];
    return { traceIds: traces.map((t) => t.traceID), spans: traces.slice(0, 1).flatMap(toSpans) };
  } catch (err) {
    return { error: `Jaeger's query API at ${apiUrl} did not answer (${(err as Error).message})` };
  }
}
