// The admin API: the operator levers of `tps` (scale, autoscaler, breakers, DLQ) over HTTP, for
// tools and runbooks. Every route but /healthz needs `Authorization: Bearer <ADMIN_TOKEN>`.
// A Fastify app that does not listen; main.ts binds it (127.0.0.1 by default).
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ControlOperations } from '#platform/control/operations.ts';
import { groupEntries } from '#platform/dlq/entries.ts';
import { dlqFilterSchema } from '#platform/dlq/filter.ts';
import type { DlqOperations } from '#platform/dlq/operations.ts';
import { AppError } from '#platform/errors.ts';
import { errorHandler, sendError } from '#platform/http/errors.ts';
import { registerJsonParser } from '#platform/http/json-body.ts';
import type { Logger } from '#platform/logger.ts';

export type AdminDeps = { logger: Logger; authorized: (header: string | undefined) => boolean; control: ControlOperations; dlq: DlqOperations };

const selection = dlqFilterSchema.extend({ all: z.boolean().optional() });
const schemas = {
  scale: z.strictObject({ pool: z.string(), slots: z.number().int() }),
  autoscaler: z.strictObject({ enabled: z.boolean() }),
  cap: z.strictObject({ pool: z.string(), max: z.number().int().nullable() }),
  breaker: z.strictObject({ name: z.string() }),
  listQuery: z.strictObject({
    pool: z.string().optional(), type: z.string().optional(), code: z.string().optional(), reason: z.string().optional(),
    job: z.string().optional(), entries: z.enum(['true', 'false']).optional(),
  }),
  replay: selection.extend({ rate: z.number().positive().max(1_000).default(10), dryRun: z.boolean().default(false) }),
  purge: selection.extend({ confirm: z.boolean().optional(), dryRun: z.boolean().default(false) }),
};

function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw new AppError('INVALID_REQUEST', { detail: result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
  return result.data;
}

const who = (request: FastifyRequest) => `admin-api (${request.ip})`;

export function buildAdminApp(deps: AdminDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 256 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  registerJsonParser(app);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => sendError(reply, new AppError('NOT_FOUND', { detail: `${request.method} ${request.url}` })));
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.url === '/healthz' || deps.authorized(request.headers.authorization)) return;
    deps.logger.warn({ ip: request.ip, route: request.routeOptions.url ?? 'unmatched' }, 'admin API: refused a request without a valid token');
    reply.header('www-authenticate', 'Bearer realm="tps-admin"');
    return sendError(reply, new AppError('UNAUTHORIZED'));
  });

  app.get('/healthz', async () => ({ status: 'ok', service: 'admin' }));
  registerControlRoutes(app, deps.control);
  registerDlqRoutes(app, deps.dlq);
  return app;
}

function registerControlRoutes(app: FastifyInstance, control: ControlOperations): void {
  app.post('/admin/scale', async (request) => {
    const body = parse(schemas.scale, request.body);
    return control.scale(body.pool, body.slots, who(request));
  });
  app.get('/admin/autoscaler', async () => control.autoscaler());
  app.post('/admin/autoscaler', async (request) => control.setAutoscaler(parse(schemas.autoscaler, request.body).enabled, who(request)));
  app.post('/admin/autoscaler/cap', async (request) => {
    const body = parse(schemas.cap, request.body);
    return control.capAutoscaler(body.pool, body.max ?? undefined, who(request));
  });
  app.get('/admin/breakers', async () => control.breakers());
  app.post('/admin/breakers/open', async (request) => control.forceBreaker(parse(schemas.breaker, request.body).name, 'open', who(request)));
  app.post('/admin/breakers/close', async (request) => control.forceBreaker(parse(schemas.breaker, request.body).name, 'auto', who(request)));
}

function registerDlqRoutes(app: FastifyInstance, dlq: DlqOperations): void {
  app.get('/admin/dlq', async (request) => {
    const q = parse(schemas.listQuery, request.query);
    const filter = parse(dlqFilterSchema, { pool: q.pool, type: q.type, code: q.code, reason: q.reason, jobId: q.job });
    const entries = await dlq.list(filter);
    const summary = entries.map(({ headers: _h, data: _d, job: _j, ...rest }) => rest);
    return { total: entries.length, groups: groupEntries(entries), ...(q.entries === 'true' ? { entries: summary } : {}) };
  });
  app.get<{ Params: { id: string } }>('/admin/dlq/:id', async (request) => {
    const entry = await dlq.show(request.params.id);
    if (!entry) throw new AppError('DLQ_ENTRY_NOT_FOUND', { detail: `(id ${request.params.id})` });
    return entry;
  });
  app.post('/admin/dlq/replay', async (request) => {
    const { rate, dryRun, all, ...filter } = parse(schemas.replay, request.body);
    const outcomes = await dlq.replay({ filter, ...(all ? { all } : {}) }, { ratePerSecond: rate, dryRun, by: who(request) });
    return { dryRun, outcomes };
  });
  app.post('/admin/dlq/purge', async (request) => {
    const { confirm, dryRun, all, ...filter } = parse(schemas.purge, request.body);
    if (!dryRun && confirm !== true) throw new AppError('CONFIRMATION_REQUIRED', { detail: 'Send "confirm": true (or "dryRun": true to see what would go).' });
    const outcomes = await dlq.purge({ filter, ...(all ? { all } : {}) }, { dryRun, by: who(request) });
    return { dryRun, outcomes };
  });
}
