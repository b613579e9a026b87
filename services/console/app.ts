// The console's HTTP app on the role kit (/healthz, /readyz, /metrics): the page and its two files,
// one server-sent event stream that carries the rendered panels, the board as JSON, and the
// actions. Reading needs nothing; every action needs the admin token, which the console does not
// hold: it passes the operator's Authorization header to the admin API, which checks it, records
// the action as an audit event and answers. A request another origin's page made is refused first.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { diagnose } from '#operator/status/diagnose.ts';
import { createHttpApp } from '#platform/http/server.ts';
import { projectRoot } from '#platform/paths.ts';
import type { RoleContext } from '#platform/role-runtime.ts';
import type { ActiveFault } from '#platform/chaos/catalogue.ts';
import type { AdminClient } from './admin-client.ts';
import type { Decisions } from './decisions.ts';
import type { BoardHistory } from './history.ts';
import { renderPanels } from './board.ts';
import { registerAlertRoutes } from './alert-routes.ts';
import type { AlertWatch } from './alerts.ts';
import { renderAlerts } from './alerts-panel.ts';
import { registerDlqRoutes } from './dlq-routes.ts';
import { eventStreams } from './event-stream.ts';
import { registerJobRoutes, type JobRouteDeps } from './job-routes.ts';
import { registerLeverRoutes } from './lever-routes.ts';
import { registerLabRoutes } from './lab-routes.ts';
import type { LabView } from './lab-view.ts';
import type { DlqReader } from './dlq-page.ts';
import { renderBoardPage } from './page.ts';
import type { QueueDetail } from './queue-detail.ts';
import type { Sampler } from './sampler.ts';

export type ConsoleDeps = {
  ctx: RoleContext;
  sampler: Sampler;
  faults: () => readonly ActiveFault[];
  admin: AdminClient;
  dlq: DlqReader;
  /** The job pages' sources: the job status bucket and where traces are. */
  jobs: Omit<JobRouteDeps, 'dlq'>;
  /** Each pool's queue against its WIP limits, from JetStream. */
  queues: () => Promise<Record<string, QueueDetail>>;
  /** Alertmanager's alerts (the Andon cord at the top of the board). */
  alerts: AlertWatch;
  /** The lab in progress, graded now (lab mode). */
  lab: () => Promise<LabView | undefined>;
  /** The autoscaler's last decisions, for why it last scaled. */
  decisions: Decisions;
  /** The lines' points: Prometheus' when it answers, else the sampler's ring. */
  history: BoardHistory;
  /** Said on the page: where the live figures come from. */
  source: string;
  intervalMs: number;
};

// From the project root, not this module's folder: a role build's chunks live elsewhere.
const asset = (name: string) => readFileSync(path.join(projectRoot, 'services', 'console', 'assets', name), 'utf8');

// This origin's files only: no inline script, no framing, no form posted elsewhere.
const securityHeaders = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** A lab page's grading reads every role, Prometheus and the events: every 5 s is live enough. */
const labIntervalMs = 5_000;


export function buildConsoleApp(deps: ConsoleDeps): FastifyInstance {
  const { ctx, sampler } = deps;
  const app = createHttpApp({
    service: 'console', logger: ctx.logger, registry: ctx.registry, timeouts: ctx.config.http, chaos: ctx.chaos,
    readiness: () => ({ nats: ctx.nc.isClosed() ? 'not connected to NATS' : true }),
  });
  const files = { js: asset('console.js'), css: asset('console.css') };
  const panels = async () => {
    const snapshot = sampler.latest();
    return snapshot ? renderPanels({ snapshot, history: deps.history.points(), faults: deps.faults(), now: Date.now(), decisions: await deps.decisions.latest() }) : undefined;
  };

  app.addHook('onSend', async (_request, reply) => { reply.headers(securityHeaders); });
  app.get('/', async (_request, reply) => {
    await deps.history.refresh();
    return reply.type('text/html; charset=utf-8').send(renderBoardPage({
      panels: await panels(), alerts: renderAlerts(deps.alerts.latest() ?? await deps.alerts.refresh(), deps.alerts.url),
      history: deps.history.source(), source: deps.source, intervalMs: deps.intervalMs, adminUrl: deps.admin.url,
    }));
  });
  app.get('/console.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(files.js));
  app.get('/console.css', async (_request, reply) => reply.type('text/css; charset=utf-8').send(files.css));
  const stream = eventStreams(app, securityHeaders, deps.intervalMs);
  // One event per new snapshot: every panel rendered, so the page only swaps them in; the alerts
  // read again from Alertmanager with each (one reading for every open page).
  const alertsNow = shared(() => deps.alerts.refresh());
  const queuesNow = shared(() => deps.queues());
  const historyNow = shared(() => deps.history.refresh());
  app.get('/events', (request, reply) => stream(request, reply, (send) => deps.sampler.subscribe((snapshot) => {
    void Promise.all([alertsNow(snapshot.at), queuesNow(snapshot.at), deps.decisions.latest(), historyNow(snapshot.at)]).then(([alerts, queues, decisions]) => {
      const rendered = {
        ...renderPanels({ snapshot, history: deps.history.points(), faults: deps.faults(), now: Date.now(), queues, decisions }),
        alerts: renderAlerts(alerts, deps.alerts.url), history: deps.history.source(),
      };
      send('board', { at: snapshot.at, panels: Object.fromEntries(Object.entries(rendered).map(([id, h]) => [id, h.text])) });
    });
  })));
  app.get('/api/board', async () => {
    const [snapshot, queues] = await Promise.all([sampler.current(), deps.queues()]);
    await deps.history.refresh();
    return { snapshot, queues, findings: diagnose(snapshot), faults: deps.faults(), history: deps.history.points() };
  });

  registerLeverRoutes(app, { admin: deps.admin, logger: ctx.logger });
  registerAlertRoutes(app, { alerts: deps.alerts, admin: deps.admin, logger: ctx.logger });
  registerDlqRoutes(app, { ctx, admin: deps.admin, dlq: deps.dlq });
  registerJobRoutes(app, { ...deps.jobs, dlq: () => deps.dlq.all() });
  registerLabRoutes(app, { view: deps.lab, intervalMs: labIntervalMs, logger: ctx.logger, stream });
  return app;
}

/** One call per key (a snapshot's time) however many open pages ask for it. */
function shared<T>(load: () => Promise<T>): (key: string) => Promise<T> {
  let last: { key: string; value: Promise<T> } | undefined;
  return (key) => {
    if (last?.key !== key) last = { key, value: load() };
    return last.value;
  };
}
