// The job pages' routes: /jobs (find a job by id; the jobs whose traces arrived last), /jobs/:id
// (one job: timeline, attempts with their breakers, dead letter, trace waterfall) and the same as
// JSON at /api/jobs/:id. Read-only: nothing here changes anything.
import type { JobStatusReader } from '#platform/job-status.ts';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { DlqEntry } from '#platform/dlq/entries.ts';
import { AppError } from '#platform/errors.ts';
import { jobIdPattern } from '#platform/job-message.ts';
import { html } from './html.ts';
import { jobPageData, renderJobBody, type TraceSource } from './job-page.ts';
import { layout } from './page.ts';

export type JobRouteDeps = { jobs: JobStatusReader; dlq: () => Promise<DlqEntry[]>; traces: TraceSource };

const findQuery = z.object({ id: z.string().trim().max(200).optional() });

function footerOf(source: TraceSource) {
  if (source.kind === 'console') return html`Status from the job status bucket (kept 1 hour after a job's last change); traces from the console's own OTLP receiver, the last ${source.store.stats().maxTraces} in memory.`;
  if (source.kind === 'jaeger') return html`Status from the job status bucket (kept 1 hour after a job's last change); traces in Jaeger at ${source.uiUrl}.`;
  return html`Status from the job status bucket (kept 1 hour after a job's last change); no traces here.`;
}

export function registerJobRoutes(app: FastifyInstance, deps: JobRouteDeps): void {
  const page = (title: string, body: ReturnType<typeof html>) => layout({ title, page: '/jobs', body, footer: footerOf(deps.traces) });
  const recent = () => (deps.traces.kind === 'console' ? deps.traces.store.recentJobs(20) : []);

  app.get('/jobs', async (request, reply) => {
    const parsed = findQuery.safeParse(request.query);
    const id = parsed.success ? parsed.data.id : undefined;
    if (id && jobIdPattern.test(id)) return reply.redirect(`/jobs/${id}`, 303);
    const jobs = recent();
    return reply.code(id ? 400 : 200).type('text/html; charset=utf-8').send(page('jobs', html`<main class="page">
<section class="panel"><h2>Find a job</h2>
<form method="get" action="/jobs" class="search"><label>Job id <input type="search" name="id" value="${id ?? ''}" placeholder="the id POST /jobs answered" data-testid="job-search"></label> <button type="submit">Show</button></form>
${id ? html`<p class="mark-bad" data-testid="job-search-error">"${id}" is not a job id: a job id is a UUID, as POST /jobs answers it (e.g. 0b6e2f4c-1d2a-4c3b-9e8f-7a6b5c4d3e2f).</p>` : ''}
</section>
<section class="panel"><h2>Jobs whose traces arrived last</h2>
${jobs.length ? html`<ul class="mono" data-testid="recent-jobs">${jobs.map((j) => html`<li><a href="/jobs/${j}">${j}</a></li>`)}</ul>` : html`<p>None here${deps.traces.kind === 'console' ? ' yet' : ': the console receives no traces'}.</p>`}
</section></main>`));
  });

  app.get<{ Params: { id: string } }>('/jobs/:id', async (request, reply) => {
    const { id } = request.params;
    if (!jobIdPattern.test(id)) return reply.redirect(`/jobs?${new URLSearchParams({ id })}`, 303);
    const data = await jobPageData(id, deps);
    return reply.code(data.view || data.dlq || data.spans.length ? 200 : 404).type('text/html; charset=utf-8').send(page(`job ${id.slice(0, 8)}`, renderJobBody(data)));
  });

  app.get<{ Params: { id: string } }>('/api/jobs/:id', async (request) => {
    const { id } = request.params;
    if (!jobIdPattern.test(id)) throw new AppError('INVALID_REQUEST', { detail: `"${id.slice(0, 60)}" is not a job id (a UUID, as POST /jobs answers it)` });
    const { source, ...data } = await jobPageData(id, deps);
    if (!data.view && !data.dlq && data.spans.length === 0) throw new AppError('JOB_NOT_FOUND', { detail: `(${id})` });
    return { ...data, traceSource: source.kind };
  });
}
