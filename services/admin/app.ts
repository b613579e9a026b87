// The admin API: the operator levers of `tps` (scale, autoscaler, breakers, live parameters, DLQ,
// process faults) over HTTP, for
// tools and runbooks. Every route but /healthz needs `Authorization: Bearer <ADMIN_TOKEN>`, and
// every client address gets ADMIN_RATE_LIMIT_RPS requests a second, token or not (a bound on
// guessing and on a runaway script). A Fastify app that does not listen; main.ts binds it.
import rateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ChaosInputError, isSystemFault, validateClear, validateFault, type FaultName } from '#platform/chaos/catalogue.ts';
import type { ChaosStore } from '#platform/chaos/store.ts';
import type { ControlOperations } from '#platform/control/operations.ts';
import { groupEntries } from '#platform/dlq/entries.ts';
import { dlqFilterSchema } from '#platform/dlq/filter.ts';
import type { DlqOperations } from '#platform/dlq/operations.ts';
import { AppError } from '#platform/errors.ts';
import { sendError } from '#platform/http/errors.ts';
import { catalogueOptions, registerCatalogueErrors } from '#platform/http/framework-errors.ts';
import { registerJsonParser } from '#platform/http/json-body.ts';
import { describeIssues } from '#platform/issue-words.ts';
import { createNodeServer, type HttpTimeouts } from '#platform/http/node-server.ts';
import type { Logger } from '#platform/logger.ts';
import type { ParameterOperations } from '#platform/params/operations.ts';

export type AdminDeps = {
  logger: Logger; authorized: (header: string | undefined) => boolean; control: ControlOperations; dlq: DlqOperations; params: ParameterOperations;
  chaos: ChaosStore;
  timeouts: HttpTimeouts; rateLimitPerSecond: number;
};

const selection = dlqFilterSchema.extend({ all: z.boolean().optional() });
const schemas = {
  scale: z.strictObject({ pool: z.string(), slots: z.number().int() }),
  autoscaler: z.strictObject({ enabled: z.boolean() }),
  cap: z.strictObject({ pool: z.string(), max: z.number().int().nullable() }),
  breaker: z.strictObject({ name: z.string() }),
  // A value as `tps config set` takes it: a number, or a duration text ("1500ms", "2s").
  parameter: z.strictObject({ name: z.string(), value: z.union([z.number(), z.string().min(1).max(40)]).transform(String), reason: z.string().min(1).max(200).optional() }),
  parameterReset: z.union([z.strictObject({ name: z.string() }), z.strictObject({ all: z.literal(true) })]),
  listQuery: z.strictObject({
    pool: z.string().optional(), type: z.string().optional(), code: z.string().optional(), reason: z.string().optional(),
    job: z.string().optional(), entries: z.enum(['true', 'false']).optional(),
  }),
  replay: selection.extend({ rate: z.number().positive().max(1_000).default(10), dryRun: z.boolean().default(false) }),
  purge: selection.extend({ confirm: z.boolean().optional(), dryRun: z.boolean().default(false) }),
  // The catalogue (platform/chaos/catalogue.ts) judges target, fault, parameters and duration.
  chaosSet: z.strictObject({ target: z.string().max(60), fault: z.string().max(60), params: z.record(z.string(), z.unknown()).optional(), durationMs: z.number().int().positive().optional() }),
  chaosClear: z.strictObject({ target: z.string().max(60), fault: z.string().max(60).optional() }),
};

function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw new AppError('INVALID_REQUEST', { detail: describeIssues(result.error, value ?? {}, { root: 'body' }) });
  return result.data;
}

const who = (request: FastifyRequest) => `admin-api (${request.ip})`;

export async function buildAdminApp(deps: AdminDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...catalogueOptions,
    serverFactory: (handler) => createNodeServer(handler, deps.timeouts),
    loggerInstance: deps.logger as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 256 * 1024,
    forceCloseConnections: 'idle',
  });
  registerCatalogueErrors(app);
  registerJsonParser(app);
  // An application hook, added before the token check: refused guesses count against the limit too.
  await app.register(rateLimit, { global: false });
  app.addHook('onRequest', app.rateLimit({
    max: deps.rateLimitPerSecond,
    timeWindow: 1_000,
    errorResponseBuilder: (_request, ctx) => new AppError('RATE_LIMITED', { retryAfterSeconds: Math.max(1, Math.ceil(ctx.ttl / 1000)) }),
  }));
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.url === '/healthz' || deps.authorized(request.headers.authorization)) return;
    deps.logger.warn({ ip: request.ip, route: request.routeOptions.url ?? 'unmatched' }, 'admin API: refused a request without a valid token');
    reply.header('www-authenticate', 'Bearer realm="tps-admin"');
    return sendError(reply, new AppError('UNAUTHORIZED'));
  });

  app.get('/healthz', async () => ({ status: 'ok', service: 'admin' }));
  registerControlRoutes(app, deps.control);
  registerParameterRoutes(app, deps.params);
  registerDlqRoutes(app, deps.dlq);
  registerChaosRoutes(app, deps.chaos);
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

function registerParameterRoutes(app: FastifyInstance, params: ParameterOperations): void {
  app.get('/admin/config', async () => params.list());
  app.post('/admin/config', async (request) => {
    const body = parse(schemas.parameter, request.body);
    return params.set(body.name, body.value, who(request), body.reason);
  });
  app.post('/admin/config/reset', async (request) => {
    const body = parse(schemas.parameterReset, request.body);
    return { reset: await params.reset('all' in body ? 'all' : body.name, who(request)) };
  });
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

/**
 * Process faults, as `tps chaos set|clear` sets them (the chaos bucket, an audit event each). System
 * faults are refused: stopping NATS, monitoring or the autoscaler (which serves this API) would take
 * away what a caller of this API stands on; they stay with `tps chaos` and `make chaos`.
 */
function registerChaosRoutes(app: FastifyInstance, chaos: ChaosStore): void {
  const judged = <T>(run: () => T): T => {
    try {
      return run();
    } catch (err) {
      if (err instanceof ChaosInputError) throw new AppError('INVALID_REQUEST', { detail: err.message });
      throw err;
    }
  };
  app.get('/admin/chaos', async () => ({ faults: await chaos.list() }));
  app.post('/admin/chaos', async (request) => {
    const body = parse(schemas.chaosSet, request.body);
    const valid = judged(() => validateFault(body));
    if (isSystemFault(valid.fault)) throw new AppError('INVALID_REQUEST', { detail: `${valid.fault} is a system fault: it stops what this API and the console run on; set it with \`tps chaos set ${valid.target} ${valid.fault}\` or \`make chaos\`` });
    return { fault: await chaos.set(body, who(request)) };
  });
  app.post('/admin/chaos/clear', async (request) => {
    const body = parse(schemas.chaosClear, request.body);
    judged(() => validateClear(body.target, body.fault));
    if (body.fault && isSystemFault(body.fault as FaultName)) throw new AppError('INVALID_REQUEST', { detail: `${body.fault} is a system fault: clear it with \`tps chaos clear ${body.target} ${body.fault}\` or \`make chaos-stop\`, which start again what it stopped` });
    const process = (await chaos.list()).filter((f) => f.target === body.target && (!body.fault || f.fault === body.fault) && !isSystemFault(f.fault as FaultName));
    const cleared = [];
    for (const f of process) cleared.push(...await chaos.clear(f.target, f.fault, who(request)));
    return { cleared };
  });
}
