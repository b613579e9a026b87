// The ingress as a Fastify app that does not listen: POST /jobs and GET /jobs/:id on the shared
// HTTP kit. Everything it talks to comes in through IngressDeps, so tests build it on a real NATS.
import type { IncomingMessage, ServerResponse } from 'node:http';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Config } from '#platform/config.ts';
import { AppError } from '#platform/errors.ts';
import { createHttpApp } from '#platform/http/server.ts';
import { findJobType, jobTypeNames } from '#platform/job-catalogue.ts';
import { encodeJob, idempotencyKeyPattern, jobIdForKey, jobIdPattern, newJobId } from '#platform/job-message.ts';
import type { JobStatusStore } from '#platform/job-status.ts';
import type { Logger } from '#platform/logger.ts';
import type { MetricsRegistry } from '#platform/metrics.ts';
import type { BrokerState } from '#platform/nats/connect.ts';
import { jobSubject } from '#platform/nats/subjects.ts';
import { sendTraced } from '#platform/nats/trace-headers.ts';
import type { Pool } from '#platform/pools.ts';
import { ingressEvents } from './events.ts';
import { brokerUnavailable, queueFull, type Publisher } from './publisher.ts';
import type { QueueState } from './queue-state.ts';

export type IngressDeps = {
  config: Config;
  logger: Logger;
  registry: MetricsRegistry;
  broker: BrokerState;
  queues: QueueState;
  publisher: Publisher;
  jobStatus: JobStatusStore;
};

const submitSchema = z.strictObject({
  type: z.string().min(1).max(100),
  payload: z.record(z.string(), z.unknown()).optional(),
});

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

export async function buildIngress(deps: IngressDeps): Promise<FastifyInstance> {
  const { config, broker, queues, publisher, jobStatus } = deps;
  const events = ingressEvents(deps.registry, deps.logger);

  // Refusals are the hot path when the system is saturated, so they are cheap: each distinct
  // refusal is serialized once, and no error is thrown through Fastify's error machinery.
  const refusalBodies = new WeakMap<AppError, string>();
  const refusalBody = (error: AppError): string => {
    let body = refusalBodies.get(error);
    if (body === undefined) refusalBodies.set(error, (body = JSON.stringify(error.toJSON())));
    return body;
  };
  function refuse(reply: FastifyReply, error: AppError, pool: Pool): FastifyReply {
    events.rejected(pool, error);
    if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
    return reply.code(error.status).type('application/json; charset=utf-8').send(refusalBody(error));
  }

  /**
   * Before Fastify and before the body is read: a POST /jobs that cannot be accepted whatever it
   * holds (broker down, every queue full) is answered from cached state at the cost of a bare
   * HTTP exchange, so shedding load stays far cheaper than accepting it.
   */
  function shed(req: IncomingMessage, res: ServerResponse): string | undefined {
    if (req.method !== 'POST' || (req.url !== '/jobs' && !req.url?.startsWith('/jobs?'))) return undefined;
    const error = !broker.connected() ? brokerUnavailable('not connected to NATS') : queues.allFull() ? queueFull('fast and slow') : undefined;
    if (!error) return undefined;
    events.rejected(undefined, error);
    const body = refusalBody(error);
    res.writeHead(error.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      ...(error.retryAfterSeconds !== undefined ? { 'retry-after': String(error.retryAfterSeconds) } : {}),
    });
    res.end(body);
    return '/jobs';
  }

  const app = createHttpApp({
    service: 'ingress',
    logger: deps.logger,
    registry: deps.registry,
    bodyLimit: config.ingress.maxBodyBytes,
    requestTimeoutMs: config.ingress.requestTimeoutMs,
    preempt: shed,
    readiness: () => ({
      nats: broker.connected() ? true : 'not connected to NATS',
      queues: queues.healthy() ? true : 'queue state unknown (JetStream not answering or streams missing)',
    }),
  });

  await app.register(rateLimit, { global: false });
  const poolOf = new WeakMap<FastifyRequest, Pool>();
  app.addHook('onError', async (request, _reply, error) => {
    if (request.routeOptions.url === '/jobs' && request.method === 'POST') events.rejected(poolOf.get(request), error);
  });

  app.post('/jobs', {
    config: config.ingress.rateLimitPerSecond > 0 ? {
      rateLimit: {
        max: config.ingress.rateLimitPerSecond,
        timeWindow: 1_000,
        keyGenerator: () => 'ingress',
        errorResponseBuilder: (_req, ctx) => new AppError('RATE_LIMITED', { retryAfterSeconds: Math.max(1, Math.ceil(ctx.ttl / 1000)) }),
      },
    } : {},
  }, async (request, reply) => {
    const body = submitSchema.safeParse(request.body);
    if (!body.success) throw new AppError('INVALID_REQUEST', { detail: describeIssues(body.error) });
    const jobType = findJobType(body.data.type);
    if (!jobType) throw new AppError('UNKNOWN_JOB_TYPE', { detail: `"${body.data.type}" is not one of: ${jobTypeNames.join(', ')}.` });
    const pool: Pool = jobType.pool;
    poolOf.set(request, pool);
    if (queues.isFull(pool)) return refuse(reply, queueFull(pool), pool);

    const key = request.headers['idempotency-key'];
    if (key !== undefined && (typeof key !== 'string' || !idempotencyKeyPattern.test(key))) throw new AppError('INVALID_IDEMPOTENCY_KEY');
    const id = key ? jobIdForKey(key) : newJobId();
    if (key) {
      const known = await jobStatus.read(id).catch(() => undefined);
      if (known) return reply.code(202).send({ id, pool: known.pool, status: known.status, duplicate: true });
    }

    const acceptedAt = new Date().toISOString();
    const subject = jobSubject(jobType.name);
    const data = encodeJob({ id, type: jobType.name, pool, payload: body.data.payload, acceptedAt });
    // `send jobs.<pool>` carries the trace on in the message headers to the worker.
    const ack = await sendTraced({ subject, queue: `jobs.${pool}` }, { id, size: data.length },
      (headers) => publisher.publish(subject, data, { msgID: id, ...(headers ? { headers } : {}) }))
      .catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'QUEUE_FULL') queues.markFull(pool);
        throw err;
      });
    if (!ack.duplicate) {
      jobStatus.note(id, { state: 'accepted', at: acceptedAt, type: jobType.name, pool });
      events.accepted(pool, jobType.name);
    }
    return reply.code(202).send({ id, pool, status: 'accepted', ...(ack.duplicate ? { duplicate: true } : {}) });
  });

  app.get<{ Params: { id: string } }>('/jobs/:id', async (request) => {
    const { id } = request.params;
    if (!jobIdPattern.test(id)) throw new AppError('INVALID_REQUEST', { detail: 'A job id is a lowercase UUID.' });
    if (!broker.connected()) throw brokerUnavailable('not connected to NATS');
    const view = await jobStatus.read(id);
    if (!view) throw new AppError('JOB_NOT_FOUND', { detail: `(id ${id})` });
    return view;
  });

  return app;
}
