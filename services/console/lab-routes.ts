// Lab mode's routes: /lab (the lab in progress, graded live), its event stream, and the same as
// JSON at /api/lab. One grading every few seconds serves every open lab page, and none runs while
// no page is open: a grading reads every role's metrics, Prometheus and the events.
import type { FastifyInstance } from 'fastify';
import type { Logger } from '#platform/logger.ts';
import type { EventStream } from './event-stream.ts';
import { html } from './html.ts';
import { renderLabPanel, type LabView } from './lab-view.ts';
import { layout } from './page.ts';

export type LabRouteDeps = { view: () => Promise<LabView | undefined>; intervalMs: number; logger: Logger; stream: EventStream };

/** Grades while someone watches: every `intervalMs`, one grading at a time, shared by every listener. */
function labTicker(view: () => Promise<LabView | undefined>, intervalMs: number, logger: Logger) {
  const listeners = new Set<(v: LabView | undefined) => void>();
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    const v = await view().catch((err: unknown) => { logger.warn({ err }, 'console: grading the lab in progress failed'); return undefined; });
    for (const l of listeners) l(v);
    if (listeners.size > 0) timer = setTimeout(() => void tick(), intervalMs);
    else timer = undefined;
  };
  return (listener: (v: LabView | undefined) => void) => {
    listeners.add(listener);
    if (!timer) timer = setTimeout(() => void tick(), 0);
    return () => { listeners.delete(listener); };
  };
}

export function registerLabRoutes(app: FastifyInstance, deps: LabRouteDeps): void {
  const subscribe = labTicker(deps.view, deps.intervalMs, deps.logger);
  app.get('/lab', async (_request, reply) => reply.type('text/html; charset=utf-8').send(layout({
    title: 'lab mode', page: '/lab', live: { intervalMs: deps.intervalMs, events: '/lab/events' },
    body: html`<main class="page"><section class="panel"><div class="content" data-panel="lab">${renderLabPanel(await deps.view())}</div></section></main>`,
    footer: html`The lab in progress (<code>tps lab start</code>, <code>tps exam</code>), graded every ${deps.intervalMs / 1000} s while this page is open, by the same checks as <code>tps lab check</code>; nothing here records a grade or changes the system.`,
  })));
  app.get('/lab/events', (request, reply) => deps.stream(request, reply, (send) => subscribe((view) => {
    send('board', { at: view?.at ?? new Date().toISOString(), panels: { lab: renderLabPanel(view).text } });
  })));
  app.get('/api/lab', async () => {
    const view = await deps.view();
    if (!view) return { lab: null };
    return {
      lab: view.lab.id, title: view.lab.title, startedAt: view.run.startedAt, score: view.score, passAt: view.lab.passAt, leftOut: view.leftOut,
      lastGrade: view.run.lastGrade ?? null,
      checks: view.results.map((r) => ({ id: r.check.id, weight: r.check.weight, holds: r.result.holds, measured: r.result.measured ?? null, reason: r.result.reason ?? null })),
    };
  });
}
