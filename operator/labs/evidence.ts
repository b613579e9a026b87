// The traces behind a lab report's figures: the slowest traced observations the roles kept since
// the lab started (OpenMetrics exemplars on their latency histograms: every bucket keeps the trace
// of its latest observation) and the traces of jobs dead-lettered meanwhile (those still in the DLQ,
// and those replayed, from the replay audit events: a replayed entry leaves the DLQ). A reader opens one
// in Jaeger to see what the measured values were made of. The roles trace only when an OTLP
// receiver is configured; without one the report says so and the metric values stand alone.
import type { DlqOperations } from '#platform/dlq/operations.ts';
import { replayedEventSchema } from '#platform/dlq/audit-events.ts';
import { dlqReplayedSubject } from '#platform/nats/subjects.ts';
import type { EventReader } from './event-probe.ts';
import { parseExemplars } from '../status/parse.ts';
import { everyAddress, type Target } from '../status/replica-targets.ts';

export type TracedObservation = { role: string; metric: string; labels: Record<string, string>; seconds: number; traceId: string; at: string };
export type DeadLetteredTrace = { jobId: string; type: string; code: string; traceId: string; at: string; replayedAs?: string };
export type Evidence = { slowest: TracedObservation[]; deadLettered: DeadLetteredTrace[]; notes: string[] };

const slowestShown = 8;
const deadLetteredShown = 5;

async function exemplarsOf(target: Target): Promise<TracedObservation[]> {
  const res = await fetch(`${target.url}/metrics`, {
    headers: { accept: 'application/openmetrics-text; version=1.0.0' }, signal: AbortSignal.timeout(2_000),
  }).catch(() => undefined);
  if (!res?.ok) return [];
  return parseExemplars(await res.text()).map((e) => {
    const { le: _bucket, ...labels } = e.labels;
    return {
      role: target.role, metric: e.name.replace(/_bucket$/, ''), labels, seconds: e.value, traceId: e.traceId,
      at: new Date((e.at ?? 0) * 1000).toISOString(),
    };
  });
}

/** The slowest traced observation of each trace since `since`, slowest first. */
export async function slowestTraces(targets: readonly Target[], since: Date, limit = slowestShown): Promise<TracedObservation[]> {
  const all = (await Promise.all((await everyAddress(targets)).map(exemplarsOf))).flat()
    .filter((o) => Date.parse(o.at) >= since.getTime());
  const byTrace = new Map<string, TracedObservation>();
  for (const o of all) {
    const seen = byTrace.get(o.traceId);
    if (!seen || o.seconds > seen.seconds) byTrace.set(o.traceId, o);
  }
  return [...byTrace.values()].sort((a, b) => b.seconds - a.seconds).slice(0, limit);
}

type EvidenceSources = { targets: readonly Target[]; dlq?: DlqOperations | undefined; events?: EventReader | undefined };

/** Jobs dead-lettered since `since`: still in the DLQ, or replayed from it meanwhile. */
async function deadLetteredSince(sources: EvidenceSources, since: Date): Promise<Array<Omit<DeadLetteredTrace, 'traceId'> & { traceId?: string | undefined }>> {
  const waiting = sources.dlq ? (await sources.dlq.list({})).filter((e) => Date.parse(e.deadLetteredAt) >= since.getTime()) : [];
  // The reader may start a little early (its window has slack): the event's own time decides.
  const replayed = (sources.events ? await sources.events(dlqReplayedSubject('*'), since) : [])
    .filter((event) => Date.parse(String(event.at)) >= since.getTime());
  return [
    ...replayed.flatMap((event) => {
      const parsed = replayedEventSchema.safeParse(event);
      return parsed.success ? [{ jobId: parsed.data.jobId, type: parsed.data.type, code: parsed.data.code, traceId: parsed.data.traceId, at: String(event.at), replayedAs: parsed.data.newJobId }] : [];
    }),
    ...waiting.map((e) => ({ jobId: e.jobId, type: e.type, code: e.code, traceId: e.traceId, at: e.deadLetteredAt })),
  ];
}

export async function gatherEvidence(sources: EvidenceSources, since: Date): Promise<Evidence> {
  const notes: string[] = [];
  const slowest = await slowestTraces(sources.targets, since);
  if (slowest.length === 0) notes.push('No traced observations since the lab started: the roles trace only when an OTLP receiver (Jaeger) is configured; the measured values above are the evidence.');
  const dead = await deadLetteredSince(sources, since);
  const deadLettered = dead.filter((d): d is DeadLetteredTrace => d.traceId !== undefined).slice(-deadLetteredShown);
  if (dead.length > 0 && deadLettered.length === 0) notes.push(`${dead.length} dead-lettered job(s) since the lab started, none with a trace id (the roles were not tracing, or a staged history left them).`);
  return { slowest, deadLettered, notes };
}
