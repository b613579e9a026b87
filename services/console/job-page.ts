// One job's page: its status timeline (the job status bucket's history of it), every attempt with
// the state of each breaker it met, its dead-letter entry if it has one, and its trace as a
// waterfall: from the console's own OTLP receiver where no Jaeger runs, else a link to Jaeger.
import type { DlqEntry } from '#platform/dlq/entries.ts';
import { fold, type JobStatusEntry, type JobStatusReader, type JobView } from '#platform/job-status.ts';
import { spanKind, type ReceivedSpan } from '#platform/telemetry/otlp-json.ts';
import type { BreakerState } from '#platform/breaker.ts';
import { html, type Html } from './html.ts';
import type { TraceStore } from './trace-store.ts';
import { jaegerTracesOfJob } from './jaeger-traces.ts';
import { breakerOf, renderWaterfall } from './waterfall.ts';

/** Where this console's traces come from: its own receiver, Jaeger (a link), or nowhere. */
export type TraceSource = { kind: 'console'; store: TraceStore } | { kind: 'jaeger'; uiUrl: string; apiUrl: string } | { kind: 'none' };

export type Attempt = {
  attempt: number;
  startedAt?: string;
  endedAt?: string;
  outcome: 'completed' | 'failed' | 'dead_lettered' | 'running';
  error?: { code: string; message: string };
  /** Each breaker the attempt called through, in call order, with its state at that moment (from the trace). */
  breakers: Array<{ circuit: string; state: BreakerState }>;
};

export type JobPageData = {
  id: string;
  view: JobView | undefined;
  history: JobStatusEntry[];
  attempts: Attempt[];
  dlq: DlqEntry | undefined;
  traceIds: string[];
  spans: ReceivedSpan[];
  source: TraceSource;
  /** Why Jaeger gave no trace, when it could not be asked. */
  traceError?: string;
};

const attemptAttribute = 'tps.job.attempt';

/** The spans under a worker's delivery of this attempt (its CONSUMER span and everything below it). */
function attemptSpans(spans: readonly ReceivedSpan[], attempt: number): ReceivedSpan[] {
  const root = spans.find((s) => s.kind === spanKind.consumer && s.attributes[attemptAttribute] === attempt);
  if (!root) return [];
  const below = new Set([root.spanId]);
  const out = [root];
  for (let grown = true; grown;) {
    grown = false;
    for (const s of spans) {
      if (s.parentSpanId && below.has(s.parentSpanId) && !below.has(s.spanId)) { below.add(s.spanId); out.push(s); grown = true; }
    }
  }
  return out.sort((a, b) => a.startMs - b.startMs);
}

/** Attempts from the status history (what the workers wrote), breakers from the trace. */
export function attemptsOf(history: readonly JobStatusEntry[], spans: readonly ReceivedSpan[]): Attempt[] {
  const numbers = [...new Set(history.flatMap((e) => (e.attempt ? [e.attempt] : [])))].sort((a, b) => a - b);
  return numbers.map((n) => {
    const entries = history.filter((e) => e.attempt === n);
    const started = entries.find((e) => e.state === 'processing' && !e.error);
    const ended = entries.find((e) => e.state === 'completed' || e.state === 'dead_lettered' || e.error);
    const outcome = !ended ? 'running' : ended.state === 'completed' ? 'completed' : ended.state === 'dead_lettered' ? 'dead_lettered' : 'failed';
    const breakers = attemptSpans(spans, n).flatMap((s) => { const b = breakerOf(s); return b ? [b] : []; });
    return {
      attempt: n, outcome, breakers,
      ...(started ? { startedAt: started.at } : {}), ...(ended ? { endedAt: ended.at } : {}), ...(ended?.error ? { error: ended.error } : {}),
    };
  });
}

/** The job's trace from where this console finds traces: its own store, or Jaeger's query API. */
async function traceOf(id: string, source: TraceSource): Promise<{ traceIds: string[]; spans: ReceivedSpan[]; traceError?: string }> {
  if (source.kind === 'console') {
    // A job's trace: the one its ingress started (a replayed job is a new job, with a trace of its own).
    const traceIds = source.store.tracesOfJob(id);
    return { traceIds, spans: traceIds.flatMap((t) => source.store.trace(t) ?? []) };
  }
  if (source.kind === 'jaeger') {
    const found = await jaegerTracesOfJob(source.apiUrl, id);
    return 'error' in found ? { traceIds: [], spans: [], traceError: found.error } : found;
  }
  return { traceIds: [], spans: [] };
}

export async function jobPageData(id: string, deps: { jobs: JobStatusReader; dlq: () => Promise<DlqEntry[]>; traces: TraceSource }): Promise<JobPageData> {
  const [history, dlqEntries, trace] = await Promise.all([deps.jobs.history(id), deps.dlq(), traceOf(id, deps.traces)]);
  const dlq = dlqEntries.find((e) => e.jobId === id);
  const traceIds = trace.traceIds.length === 0 && dlq?.traceId ? [dlq.traceId] : trace.traceIds;
  return {
    id, view: fold(id, history), history, attempts: attemptsOf(history, trace.spans), dlq, traceIds, spans: trace.spans, source: deps.traces,
    ...(trace.traceError ? { traceError: trace.traceError } : {}),
  };
}

const when = (iso: string | undefined) => (iso ? iso.replace('T', ' ').replace('Z', '') : '-');
const outcomeMark: Record<Attempt['outcome'], string> = { completed: 'mark-ok', running: 'mark-watch', failed: 'mark-bad', dead_lettered: 'mark-bad' };
const breakerMark: Record<BreakerState, string> = { closed: 'mark-ok', half_open: 'mark-watch', open: 'mark-bad' };

function renderTrace(data: JobPageData): Html {
  const { source } = data;
  if (source.kind === 'jaeger') {
    const tags = encodeURIComponent(JSON.stringify({ 'messaging.message.id': data.id }));
    const link = data.traceIds[0] ? `${source.uiUrl}/trace/${data.traceIds[0]}` : `${source.uiUrl}/search?service=ingress&tags=${tags}`;
    const why = data.traceError ?? 'Jaeger has no trace of it (yet: spans are sent every few seconds; or tracing was off)';
    return html`<p data-testid="trace-source">Trace${data.traceIds[0] ? ` ${data.traceIds[0]}` : ''} from Jaeger: <a href="${link}" rel="noreferrer">open this job's trace in Jaeger</a>.${data.spans.length ? '' : ` ${why}.`}</p>
${data.spans.length ? renderWaterfall(data.spans) : ''}`;
  }
  if (source.kind === 'none') {
    return html`<p data-testid="trace-source">No trace here: tracing is off (no Jaeger and no receiver in the console). <code>tps up</code> turns the console's own receiver on when nothing else listens on the OTLP port.</p>`;
  }
  const { traces, maxTraces } = source.store.stats();
  const kept = `the console keeps the last ${maxTraces} traces in memory (${traces} now), lost when it restarts`;
  if (data.spans.length === 0) return html`<p data-testid="trace-source">No trace of this job in the console: ${kept}. Its spans may still be on their way (they are sent every few seconds).</p>`;
  return html`<p data-testid="trace-source">Trace ${data.traceIds.join(', ')}, from the console's own OTLP receiver (no Jaeger here): ${kept}.</p>
${renderWaterfall(data.spans)}`;
}

export function renderJobBody(data: JobPageData): Html {
  const { view } = data;
  if (!view && !data.dlq && data.spans.length === 0) {
    return html`<main class="page"><section class="panel"><p data-testid="job-missing">No job <span class="mono">${data.id}</span>: its status is kept 1 hour after its last change, and no dead letter or trace names it.</p></section></main>`;
  }
  return html`<main class="page">
<section class="panel" data-testid="job-summary"><h2>Job <span class="mono">${data.id}</span></h2>
${view ? html`<dl><dt>type</dt><dd>${view.type}</dd><dt>pool</dt><dd>${view.pool}</dd><dt>status</dt><dd data-testid="job-status">${view.status}</dd><dt>attempts</dt><dd>${view.attempts}</dd>
<dt>accepted</dt><dd>${when(view.acceptedAt)}</dd><dt>finished</dt><dd>${when(view.finishedAt)}</dd>${view.replayedAs ? html`<dt>replayed as</dt><dd><a href="/jobs/${view.replayedAs}">${view.replayedAs}</a></dd>` : ''}</dl>` : html`<p>No status kept (it is kept 1 hour after the job's last change).</p>`}
</section>
<section class="panel"><h2>Status timeline</h2>
<ol class="timeline" data-testid="job-timeline">${data.history.map((e) => html`<li><span class="mono">${when(e.at)}</span> <strong>${e.state}</strong>${e.attempt ? ` (attempt ${e.attempt})` : ''}${e.error ? html`: <span class="mark-bad">${e.error.code}</span> ${e.error.message}` : ''}</li>`)}</ol>
</section>
<section class="panel"><h2>Attempts, with the breakers each met</h2>
<table data-testid="job-attempts"><thead><tr><th>attempt</th><th>started</th><th>ended</th><th>outcome</th><th>breakers at that moment</th></tr></thead><tbody>
${data.attempts.map((a) => html`<tr data-attempt="${a.attempt}"><td>${a.attempt}</td><td>${when(a.startedAt)}</td><td>${when(a.endedAt)}</td>
<td class="${outcomeMark[a.outcome]}">${a.outcome.replace('_', '-')}${a.error ? html`: <strong>${a.error.code}</strong> ${a.error.message}` : ''}</td>
<td>${a.breakers.length ? a.breakers.map((b) => html`<span class="${breakerMark[b.state]}">● ${b.circuit} ${b.state.replace('_', '-')}</span> `) : html`<small>not in a trace here</small>`}</td></tr>`)}
</tbody></table>
</section>
${data.dlq ? html`<section class="panel" data-testid="job-dlq"><h2>Dead letter</h2><p><a href="/dlq/${data.dlq.seq}">Entry ${data.dlq.seq}</a>: <strong>${data.dlq.code}</strong> ${data.dlq.message} (${data.dlq.reason}, after ${data.dlq.attempts} attempts, ${when(data.dlq.deadLetteredAt)})</p></section>` : ''}
<section class="panel"><h2>Trace</h2>${renderTrace(data)}</section>
</main>`;
}
