// The ingress as a Fastify app that does not listen: POST /jobs and GET /jobs/:id on the shared
// HTTP kit. Everything it talks to comes in through IngressDeps, so tests build it on a real NATS.
import type { IncomingMessage, ServerResponse } from 'node:http';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Config } from '#platform/config.ts';
import { AppError } from '#platform/errors.ts';
import { parseJsonBody } from '#platform/http/json-body.ts';
import { createHttpApp, type Preempt } from '#platform/http/server.ts';
import { findJobType, jobTypeNames, type JobType } from '#platform/job-catalogue.ts';
import type { IdempotencyStore } from '#platform/idempotency.ts';
import { encodeJob, idempotencyKeyPattern, jobIdPattern, newJobId } from '#platform/job-message.ts';
import type { JobStatusStore } from '#platform/job-status.ts';
import type { Logger } from '#platform/logger.ts';
import type { MetricsRegistry } from '#platform/metrics.ts';
import type { BrokerState } from '#platform/nats/connect.ts';
import type { PubAck } from '#platform/nats/jetstream-publisher.ts';
import { jobSubject } from '#platform/nats/subjects.ts';
import { sendTraced } from '#platform/nats/trace-headers.ts';
import { poolNames, type Pool } from '#platform/pools.ts';
import { ingressEvents } from './events.ts';
import { submitKeyed, type KeyedSubmit } from './keyed-submit.ts';
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
  idempotency: IdempotencyStore;
};

const submitSchema = z.strictObject({
  type: z.string().min(1).max(100),
  payload: z.record(z.string(), z.unknown()).optional(),
});

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

type Submission = { jobType: JobType; payload: Record<string, unknown> | undefined };

/** A parsed body as a job of the catalogue, or the 400 that refuses it. */
function readSubmission(value: unknown): Submission | AppError {
  const body = submitSchema.safeParse(value);
  if (!body.success) return new AppError('INVALID_REQUEST', { detail: describeIssues(body.error) });
  const jobType = findJobType(body.data.type);
  if (!jobType) return new AppError('UNKNOWN_JOB_TYPE', { detail: `"${body.data.type}" is not one of: ${jobTypeNames.join(', ')}.` });
  return { jobType, payload: body.data.payload };
}

/** A refusal as it goes on the wire, built once per distinct error: it is the hot path under overload. */
type WireRefusal = { status: number; headers: string[]; text: string };
const wireRefusals = new WeakMap<AppError, WireRefusal>();
function wireRefusal(error: AppError): WireRefusal {
  let wire = wireRefusals.get(error);
  if (wire === undefined) {
    const text = JSON.stringify(error.toJSON());
    const headers = ['content-type', 'application/json; charset=utf-8', 'content-length', String(Buffer.byteLength(text))];
    if (error.retryAfterSeconds !== undefined) headers.push('retry-after', String(error.retryAfterSeconds));
    wireRefusals.set(error, (wire = { status: error.status, headers, text }));
  }
  return wire;
}

export async function buildIngress(deps: IngressDeps): Promise<FastifyInstance> {
  const { config, broker, queues, publisher, jobStatus } = deps;
  const events = ingressEvents(deps.registry, deps.logger);
  // Requests with an Idempotency-Key go through the key's record (keyed-submit.ts); others never do.
  const keyedBase: Omit<KeyedSubmit, 'store'> = {
    keys: deps.idempotency,
    jobStatus,
    duplicateWindowMs: config.idempotency.duplicateWindowMs,
    confirmFailed: (err: unknown) => deps.logger.warn({ err }, 'a keyed job is stored but its idempotency record could not be confirmed; a retry finds it'),
  };

  // Refusals decided in the route (a queue found full by the publish) skip the error machinery too.
  function refuse(reply: FastifyReply, error: AppError, pool: Pool): FastifyReply {
    events.rejected(pool, error);
    const wire = wireRefusal(error);
    if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
    return reply.code(wire.status).type('application/json; charset=utf-8').send(wire.text);
  }

  const isSubmit = (req: IncomingMessage) => req.method === 'POST' && (req.url === '/jobs' || req.url?.startsWith('/jobs?') === true);
  /** Each refusal the shedding answers, ready to go: its bytes and its bound counter. */
  type Shedding = { wire: WireRefusal; count: () => void };
  const shedding = (error: AppError, pool: Pool | undefined): Shedding => ({ wire: wireRefusal(error), count: events.rejection(pool, error) });
  const brokerDown = shedding(brokerUnavailable('not connected to NATS'), undefined);
  const everyQueueFull = shedding(queueFull('fast and slow'), undefined);
  const poolFull = Object.fromEntries(poolNames.map((pool) => [pool, shedding(queueFull(pool), pool)])) as Record<Pool, Shedding>;
  function answer(res: ServerResponse, refusal: Shedding): string {
    refusal.count();
    res.writeHead(refusal.wire.status, refusal.wire.headers);
    // A string body goes out with the headers in one write; a Buffer would take a second (writev).
    res.end(refusal.wire.text);
    return '/jobs';
  }

  /**
   * Shedding before Fastify: a POST /jobs that cannot be accepted is answered from cached state at
   * the cost of a bare HTTP exchange, so refusing under overload stays far cheaper than accepting.
   * Broker down or every queue full: refused before the body is read, whatever it holds. One queue
   * full: the body is read and checked as the route would (so a bad request still gets its 400),
   * and a job for the full pool is refused; every other request goes on to the route.
   */
  const shed: Preempt = {
    beforeBody(req, res) {
      if (!isSubmit(req)) return undefined;
      if (!broker.connected()) return answer(res, brokerDown);
      if (queues.allFull()) return answer(res, everyQueueFull);
      return queues.anyFull() ? 'read-body' : undefined;
    },
    withBody(_req, res, body) {
      let value: unknown;
      try {
        value = parseJsonBody(body.toString('utf8'));
      } catch {
        return undefined;
      }
      const submission = readSubmission(value);
      if (submission instanceof AppError || !queues.isFull(submission.jobType.pool)) return undefined;
      return answer(res, poolFull[submission.jobType.pool]);
    },
  };

  const app = createHttpApp({
    service: 'ingress',
    logger: deps.logger,
    registry: deps.registry,
    bodyLimit: config.ingress.maxBodyBytes,
    timeouts: config.http,
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
    const submission = readSubmission(request.body);
    if (submission instanceof AppError) throw submission;
    const { jobType, payload } = submission;
    const pool: Pool = jobType.pool;
    poolOf.set(request, pool);
    if (queues.isFull(pool)) return refuse(reply, queueFull(pool), pool);

    const key = request.headers['idempotency-key'];
    if (key !== undefined && (typeof key !== 'string' || !idempotencyKeyPattern.test(key))) throw new AppError('INVALID_IDEMPOTENCY_KEY');
    if (key) {
      const keyed: KeyedSubmit = { ...keyedBase, store: (id) => storeJob(id, jobType, payload) };
      const accepted = await submitKeyed(keyed, key, { type: jobType.name, pool, payload });
      return reply.code(202).send({ id: accepted.id, pool, status: accepted.status, ...(accepted.duplicate ? { duplicate: true } : {}) });
    }
    const id = newJobId();
    await storeJob(id, jobType, payload);
    return reply.code(202).send({ id, pool, status: 'accepted' });
  });

  /** Publishes the job and waits for its PubAck; the first store of an id records it as accepted. */
  async function storeJob(id: string, jobType: JobType, payload: Submission['payload']): Promise<PubAck> {
    const pool = jobType.pool;
    const acceptedAt = new Date().toISOString();
    const subject = jobSubject(jobType.name);
    const data = encodeJob({ id, type: jobType.name, pool, payload, acceptedAt });
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
    return ack;
  }

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
