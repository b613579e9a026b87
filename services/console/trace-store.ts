// The console's recent traces, in memory and bounded: at most `maxTraces` traces of at most
// `maxSpansPerTrace` spans each; the trace seen longest ago goes first. A job finds its trace by its
// id, which every span of a job's messages carries (messaging.message.id). Nothing here survives a
// restart, and the job page says so.
import { InsertionRing } from '#platform/insertion-ring.ts';
import type { ReceivedSpan } from '#platform/telemetry/otlp-json.ts';

export type TraceStore = {
  add(spans: readonly ReceivedSpan[]): void;
  trace(traceId: string): ReceivedSpan[] | undefined;
  /** The trace (or traces: a replayed job starts a new one) whose spans name this job. */
  tracesOfJob(jobId: string): string[];
  /** The jobs whose traces arrived last, newest first. */
  recentJobs(count: number): string[];
  stats(): { traces: number; spans: number; dropped: number; maxTraces: number };
};

const jobIdAttribute = 'messaging.message.id';

export function createTraceStore(opts: { maxTraces: number; maxSpansPerTrace: number }): TraceStore {
  const traces = new Map<string, ReceivedSpan[]>();
  const order = new InsertionRing(opts.maxTraces); // the trace seen longest ago goes first
  const jobs = new Map<string, Set<string>>();
  const jobsOf = new Map<string, Set<string>>(); // trace -> job ids, to forget them with it
  let spanCount = 0;
  let dropped = 0;

  const forget = (traceId: string) => {
    spanCount -= traces.get(traceId)?.length ?? 0;
    traces.delete(traceId);
    for (const job of jobsOf.get(traceId) ?? []) {
      const set = jobs.get(job);
      set?.delete(traceId);
      if (set?.size === 0) jobs.delete(job);
    }
    jobsOf.delete(traceId);
  };

  return {
    add(spans) {
      for (const span of spans) {
        let list = traces.get(span.traceId);
        if (!list) {
          const oldest = order.push(span.traceId);
          if (oldest !== undefined) forget(oldest);
          traces.set(span.traceId, (list = []));
        }
        if (list.length >= opts.maxSpansPerTrace) { dropped += 1; continue; }
        list.push(span);
        spanCount += 1;
        const job = span.attributes[jobIdAttribute];
        if (typeof job === 'string' && job.length > 0 && job.length <= 200) {
          if (!jobs.has(job)) jobs.set(job, new Set());
          jobs.get(job)?.add(span.traceId);
          if (!jobsOf.has(span.traceId)) jobsOf.set(span.traceId, new Set());
          jobsOf.get(span.traceId)?.add(job);
        }
      }
    },
    trace: (traceId) => traces.get(traceId)?.slice(),
    tracesOfJob: (jobId) => [...(jobs.get(jobId) ?? [])],
    recentJobs: (count) => [...jobs.keys()].slice(-count).reverse(),
    stats: () => ({ traces: traces.size, spans: spanCount, dropped, maxTraces: opts.maxTraces }),
  };
}
