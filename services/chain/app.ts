// One hop of the service chain (service-a, service-b or service-c) as a Fastify app that does not
// listen: POST /work does this hop's share of a job, then calls the next hop if the job goes on.
// Each hop checks the deadline (expired work is refused, not done), limits its concurrency like a
// database pool, and reaches the next hop only through a breaker with a shorter timeout.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BreakerOpenError, CallTimeoutError, ClientError } from '#platform/breaker.ts';
import type { Chaos } from '#platform/chaos/injector.ts';
import { withDeadline } from '#platform/deadline.ts';
import { AppError, isTimeout } from '#platform/errors.ts';
import { createHttpApp } from '#platform/http/server.ts';
import type { HttpTimeouts } from '#platform/http/node-server.ts';
import { deadlineHeader, DownstreamError, type DownstreamClient, type HopResult } from '#platform/http/downstream.ts';
import type { ChainService, JobType } from '#platform/job-catalogue.ts';
import type { Logger } from '#platform/logger.ts';
import { counter, gauge, knownLabels, labelSets, metrics, type Counter, type MetricsRegistry } from '#platform/metrics.ts';
import { inSpan } from '#platform/telemetry/spans.ts';
import type { BrokerState } from '#platform/nats/connect.ts';
import { createEffectsLedger } from './effects.ts';
import type { Limiter } from './limiter.ts';
import { doWork } from './work.ts';
import { parseWorkOrder } from './work-order.ts';

export type ChainDeps = {
  service: ChainService;
  logger: Logger;
  registry: MetricsRegistry;
  limiter: Limiter;
  /** How this service reaches its next hop, if it has one (a breaker, and the cache and fallback of next-hop.ts). */
  next?: Pick<DownstreamClient, 'call'>;
  workScale: number;
  chaos: Chaos;
  broker: BrokerState;
  timeouts: HttpTimeouts;
};

/** A request without a deadline header still gets one: nothing waits forever. */
const defaultBudgetMs = 30_000;

export async function buildChain(deps: ChainDeps): Promise<FastifyInstance> {
  const { service, limiter } = deps;
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
  const hop: Hop = {
    deps,
    rejected: counter(deps.registry, metrics.serviceRejected, labelSets({ service: [service], reason: knownLabels.serviceRejectReason })),
    effects: createEffectsLedger(service, deps.registry),
  };

  // Which jobs this service did twice (at-least-once delivery made visible), for `tps audit`.
  app.get('/effects/duplicates', async () => hop.effects.duplicates());

  app.post('/work', (request) => doHop(hop, request));
  return app;
}

type Hop = {
  deps: ChainDeps;
  rejected: Counter<'service' | 'reason'>;
  effects: ReturnType<typeof createEffectsLedger>;
};

/** This hop's share of a job, in time and within its concurrency limit, then the next hop's. */
async function doHop(hop: Hop, request: FastifyRequest): Promise<HopResult> {
  const { service, next } = hop.deps;
  const started = performance.now();
  const { jobId, type, payload, attempt, jobType, nextHop } = parseWorkOrder(request.body, service);
  const deadline = Number(request.headers[deadlineHeader]) || Date.now() + defaultBudgetMs;
  if (Date.now() >= deadline) throw refuseLate(hop, `(${service} received it ${Date.now() - deadline} ms too late; not done)`);

  const release = await acquireSlot(hop.deps);
  if (!release) {
    hop.rejected.inc({ service, reason: 'overloaded' });
    throw new AppError('OVERLOADED', { detail: `(${service})` });
  }
  try {
    if (Date.now() >= deadline) throw refuseLate(hop, `(${service}: the deadline passed while waiting for a free slot; not done)`);
    await workUntil(hop, jobType, deadline);
    hop.effects.record(request.headers['idempotency-key'] as string | undefined ?? jobId);
    let result: HopResult | undefined;
    if (nextHop && next) result = await callNext(next, nextHop, { jobId, type, payload, attempt, deadline });
    return { service, ms: Math.round(performance.now() - started), ...(result ? { next: result } : {}) } satisfies HopResult;
  } finally {
    release();
  }
}

/** A full concurrency limit is a queue of its own: the wait shows as a span of its own. */
function acquireSlot({ service, limiter }: ChainDeps): ReturnType<Limiter['acquire']> {
  return limiter.running < limiter.limit ? limiter.acquire()
    : inSpan('wait for a slot', { 'tps.service': service, 'tps.waiting': limiter.waiting }, () => limiter.acquire());
}

/** This hop's simulated work, dropped half-way when the deadline passes. */
function workUntil(hop: Hop, jobType: JobType, deadline: number): Promise<void> {
  const { service, workScale } = hop.deps;
  return inSpan('work', { 'tps.service': service }, () => withDeadline(deadline - Date.now(), (signal) => doWork(jobType.work[service], workScale, signal))).catch((err: unknown) => {
    // The only signal here is the deadline's.
    if (!isTimeout(err)) throw err;
    // Dropped half-way: counted with the refusals, since the work was not done.
    throw refuseLate(hop, `(${service}: the deadline passed during the work)`);
  });
}

/** Counts a refusal for a passed deadline and returns the error the caller gets. */
function refuseLate(hop: Hop, detail: string): AppError {
  hop.rejected.inc({ service: hop.deps.service, reason: 'deadline' });
  return new AppError('DEADLINE_EXCEEDED', { detail });
}

async function callNext(next: Pick<DownstreamClient, 'call'>, target: string, request: Parameters<DownstreamClient['call']>[0]): Promise<HopResult> {
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
