// One hop of the service chain (service-a, service-b or service-c) as a Fastify app that does not
// listen: POST /work does this hop's share of a job, then calls the next hop if the job goes on.
// Each hop checks the deadline (expired work is refused, not done), limits its concurrency like a
// database pool, and reaches the next hop only through a breaker with a shorter timeout.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { BreakerOpenError, CallTimeoutError, ClientError } from '#platform/breaker.ts';
import type { Chaos } from '#platform/chaos/injector.ts';
import { AppError, isTimeout } from '#platform/errors.ts';
import { createHttpApp } from '#platform/http/server.ts';
import type { HttpTimeouts } from '#platform/http/node-server.ts';
import { deadlineHeader, DownstreamError, type DownstreamClient, type HopResult } from '#platform/http/downstream.ts';
import { findJobType, route, type ChainService } from '#platform/job-catalogue.ts';
import type { Logger } from '#platform/logger.ts';
import { counter, gauge, knownLabels, labelSets, metrics, type MetricsRegistry } from '#platform/metrics.ts';
import { inSpan } from '#platform/telemetry/spans.ts';
import type { BrokerState } from '#platform/nats/connect.ts';
import { createEffectsLedger } from './effects.ts';
import type { Limiter } from './limiter.ts';
import { doWork } from './work.ts';

export type ChainDeps = {
  service: ChainService;
  logger: Logger;
  registry: MetricsRegistry;
  limiter: Limiter;
  /** The client for the next hop, if this service has one. */
  next?: DownstreamClient;
  workScale: number;
  chaos: Chaos;
  broker: BrokerState;
  timeouts: HttpTimeouts;
};

const workSchema = z.object({
  jobId: z.string().min(1).max(100),
  type: z.string().min(1).max(100),
  payload: z.unknown().optional(),
  attempt: z.number().int().min(1).max(1000).default(1),
});

/** A request without a deadline header still gets one: nothing waits forever. */
const defaultBudgetMs = 30_000;

export async function buildChain(deps: ChainDeps): Promise<FastifyInstance> {
  const { service, limiter, next } = deps;
  const app = createHttpApp({
    service,
    logger: deps.logger,
    registry: deps.registry,
    chaos: deps.chaos,
    timeouts: deps.timeouts,
    readiness: () => ({ nats: deps.broker.connected() ? true : 'not connected to NATS (chaos control unavailable)' }),
  });
  gauge(deps.registry, metrics.serviceInflight, (g) => g.set({ service }, limiter.running));
  gauge(deps.registry, metrics.serviceWaiting, (g) => g.set({ service }, limiter.waiting));
  const rejected = counter(deps.registry, metrics.serviceRejected, labelSets({ service: [service], reason: knownLabels.serviceRejectReason }));
  const effects = createEffectsLedger(service, deps.registry);

  // Which jobs this service did twice (at-least-once delivery made visible), for `tps audit`.
  app.get('/effects/duplicates', async () => effects.duplicates());

  app.post('/work', async (request) => {
    const started = performance.now();
    const parsed = workSchema.safeParse(request.body);
    if (!parsed.success) throw new AppError('INVALID_REQUEST', { detail: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    const { jobId, type, payload, attempt } = parsed.data;
    const jobType = findJobType(type);
    if (!jobType) throw new AppError('UNKNOWN_JOB_TYPE', { detail: `"${type}"` });
    const hops = route(jobType);
    const position = hops.indexOf(service);
    if (position < 0) throw new AppError('INVALID_REQUEST', { detail: `${type} jobs do not go through ${service}` });
    if (position === 0) {
      const valid = jobType.payload.safeParse(payload ?? {});
      if (!valid.success) throw new AppError('INVALID_PAYLOAD', { detail: valid.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; ') });
    }
    const deadline = Number(request.headers[deadlineHeader]) || Date.now() + defaultBudgetMs;
    if (Date.now() >= deadline) {
      rejected.inc({ service, reason: 'deadline' });
      throw new AppError('DEADLINE_EXCEEDED', { detail: `(${service} received it ${Date.now() - deadline} ms too late; not done)` });
    }

    // A full concurrency limit is a queue of its own: the wait shows as a span of its own.
    const release = limiter.running < limiter.limit ? await limiter.acquire()
      : await inSpan('wait for a slot', { 'tps.service': service, 'tps.waiting': limiter.waiting }, () => limiter.acquire());
    if (!release) {
      rejected.inc({ service, reason: 'overloaded' });
      throw new AppError('OVERLOADED', { detail: `(${service})` });
    }
    try {
      if (Date.now() >= deadline) {
        rejected.inc({ service, reason: 'deadline' });
        throw new AppError('DEADLINE_EXCEEDED', { detail: `(${service}: the deadline passed while waiting for a free slot; not done)` });
      }
      await inSpan('work', { 'tps.service': service }, () => doWork(jobType.work[service], deps.workScale, AbortSignal.timeout(deadline - Date.now()))).catch((err: unknown) => {
        // The only signal here is the deadline's.
        if (!isTimeout(err)) throw err;
        // Dropped half-way: counted with the refusals, since the work was not done.
        rejected.inc({ service, reason: 'deadline' });
        throw new AppError('DEADLINE_EXCEEDED', { detail: `(${service}: the deadline passed during the work)` });
      });
      effects.record(request.headers['idempotency-key'] as string | undefined ?? jobId);
      const nextHop = hops[position + 1];
      let result: HopResult | undefined;
      if (nextHop && next) result = await callNext(next, nextHop, { jobId, type, payload, attempt, deadline });
      return { service, ms: Math.round(performance.now() - started), ...(result ? { next: result } : {}) } satisfies HopResult;
    } finally {
      release();
    }
  });
  return app;
}

async function callNext(next: DownstreamClient, target: string, request: Parameters<DownstreamClient['call']>[0]): Promise<HopResult> {
  try {
    return await next.call(request);
  } catch (err) {
    if (err instanceof ClientError) throw new AppError(err.status === 422 ? 'INVALID_PAYLOAD' : 'INVALID_REQUEST', { detail: err.message });
    if (err instanceof BreakerOpenError) throw new AppError('CIRCUIT_OPEN', { detail: `(${err.message})` });
    if (err instanceof CallTimeoutError) throw new AppError('DOWNSTREAM_FAILED', { detail: `(${target} did not answer in time: ${err.message})` });
    if (err instanceof DownstreamError) throw new AppError('DOWNSTREAM_FAILED', { detail: `(${err.message})` });
    throw err;
  }
}
