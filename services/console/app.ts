// The console's HTTP app on the role kit (/healthz, /readyz, /metrics): the page and its two files,
// one server-sent event stream that carries the rendered panels, the board as JSON, and the
// actions. Reading needs nothing; every action needs the admin token, which the console does not
// hold: it passes the operator's Authorization header to the admin API, which checks it, records
// the action as an audit event and answers. A request another origin's page made is refused first.
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { diagnose } from '#operator/status/diagnose.ts';
import { AppError } from '#platform/errors.ts';
import { createHttpApp } from '#platform/http/server.ts';
import type { RoleContext } from '#platform/role-runtime.ts';
import type { ActiveFault } from '#platform/chaos/catalogue.ts';
import type { AdminClient } from './admin-client.ts';
import { renderPanels } from './board.ts';
import { registerDlqRoutes } from './dlq-routes.ts';
import { registerJobRoutes, type JobRouteDeps } from './job-routes.ts';
import type { DlqReader } from './dlq-page.ts';
import { action, requireToken } from './guard.ts';
import { renderBoardPage } from './page.ts';
import type { Sampler } from './sampler.ts';

export type ConsoleDeps = {
  ctx: RoleContext;
  sampler: Sampler;
  faults: () => readonly ActiveFault[];
  admin: AdminClient;
  dlq: DlqReader;
  /** The job pages' sources: the job status bucket and where traces are. */
  jobs: Omit<JobRouteDeps, 'dlq'>;
  /** Said on the page: where the figures come from and how much history there is. */
  source: string;
  intervalMs: number;
};

const asset = (name: string) => readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8');

// This origin's files only: no inline script, no framing, no form posted elsewhere.
const securityHeaders = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const breakerBody = z.strictObject({ name: z.string().min(1).max(200) });
const scaleBody = z.strictObject({ pool: z.string().min(1).max(50), slots: z.number().int().min(0).max(100_000) });
const autoscalerBody = z.strictObject({ enabled: z.boolean() });

export function buildConsoleApp(deps: ConsoleDeps): FastifyInstance {
  const { ctx, sampler } = deps;
  const app = createHttpApp({
    service: 'console', logger: ctx.logger, registry: ctx.registry, timeouts: ctx.config.http, chaos: ctx.chaos,
    readiness: () => ({ nats: ctx.nc.isClosed() ? 'not connected to NATS' : true }),
  });
  const files = { js: asset('console.js'), css: asset('console.css') };
  const panels = () => {
    const snapshot = sampler.latest();
    return snapshot ? renderPanels({ snapshot, history: sampler.history(), faults: deps.faults(), now: Date.now() }) : undefined;
  };

  app.addHook('onSend', async (_request, reply) => { reply.headers(securityHeaders); });
  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8')
    .send(renderBoardPage({ panels: panels(), source: deps.source, intervalMs: deps.intervalMs, adminUrl: deps.admin.url })));
  app.get('/console.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(files.js));
  app.get('/console.css', async (_request, reply) => reply.type('text/css; charset=utf-8').send(files.css));
  // Open event streams end when the console stops, or closing the server would wait on them.
  const streams = new Set<FastifyReply['raw']>();
  app.addHook('preClose', async () => { for (const res of streams) res.end(); });
  app.get('/events', (request, reply) => streamBoard(request, reply, deps, streams));
  app.get('/api/board', async () => {
    const snapshot = await sampler.current();
    return { snapshot, findings: diagnose(snapshot), faults: deps.faults(), history: sampler.history() };
  });

  // Actions: same origin, a token, then the admin API decides.
  app.get('/api/session', async (request) => {
    const authorization = requireToken(request);
    await deps.admin.call('GET', '/admin/breakers', authorization);
    return { admin: true };
  });
  app.post('/api/breakers/:action', async (request) => {
    const act = (request.params as { action: string }).action;
    if (act !== 'open' && act !== 'auto') throw new AppError('NOT_FOUND', { detail: '(breakers: open or auto)' });
    const { authorization, body } = action(request, breakerBody);
    const answer = await deps.admin.call('POST', `/admin/breakers/${act === 'open' ? 'open' : 'close'}`, authorization, body);
    ctx.logger.info({ breaker: body.name, action: act, ip: request.ip }, 'console: breaker action passed to the admin API');
    return { ...(answer as object), message: act === 'open' ? `Breaker ${body.name} forced open.` : `Breaker ${body.name} back to automatic.` };
  });
  // The pools' levers, as `tps scale` and `tps autoscaler enable|disable`.
  app.post('/api/scale', async (request) => {
    const { authorization, body } = action(request, scaleBody);
    const answer = await deps.admin.call('POST', '/admin/scale', authorization, body) as { previous?: number; autoscalerEnabled?: boolean };
    const note = answer.autoscalerEnabled ? ' The autoscaler is on and may move it again: turn it off to hold it.' : '';
    return { ...answer, message: `${body.pool} pool: ${body.slots} slots per worker (was ${answer.previous ?? 'its start-up value'}).${note}` };
  });
  app.post('/api/autoscaler', async (request) => {
    const { authorization, body } = action(request, autoscalerBody);
    const answer = await deps.admin.call('POST', '/admin/autoscaler', authorization, body);
    return { ...(answer as object), message: body.enabled ? 'Autoscaler on.' : 'Autoscaler off: the slots stay where you set them.' };
  });
  registerDlqRoutes(app, { ctx, admin: deps.admin, dlq: deps.dlq });
  registerJobRoutes(app, { ...deps.jobs, dlq: () => deps.dlq.all() });
  return app;
}

/** One event per new snapshot: every panel rendered, so the page only swaps them in. */
function streamBoard(request: FastifyRequest, reply: FastifyReply, deps: ConsoleDeps, streams: Set<FastifyReply['raw']>): void {
  reply.hijack();
  const res = reply.raw;
  streams.add(res);
  res.writeHead(200, { ...securityHeaders, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write(`retry: ${deps.intervalMs}\n\n`);
  const unsubscribe = deps.sampler.subscribe((snapshot) => {
    const panels = renderPanels({ snapshot, history: deps.sampler.history(), faults: deps.faults(), now: Date.now() });
    const data = JSON.stringify({ at: snapshot.at, panels: Object.fromEntries(Object.entries(panels).map(([id, h]) => [id, h.text])) });
    res.write(`event: board\ndata: ${data}\n\n`);
  });
  // A comment now and then keeps proxies from closing a quiet stream.
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  const close = () => { clearInterval(keepAlive); unsubscribe(); streams.delete(res); };
  request.raw.on('close', close);
  res.on('error', close);
}
