// The ingress's load shedding: whether POST /jobs can take a job or must refuse it, with which
// answer, and the one way a refusal is sent. Refusals decided from cached state (NATS not
// connected, a queue known full) are built once, error, bytes and bound counter, because under
// overload they are the hot path; those raised on the way (rate limit, a publish the queue
// refused, the idempotency store full, a bad request) are counted and answered the same way.
import type { ServerResponse } from 'node:http';
import { http } from '#platform/http/node-http.ts';
import type { RateLimitOptions } from '@fastify/rate-limit';
import type { FastifyReply } from 'fastify';
import { AppError } from '#platform/errors.ts';
import { errorHandler, toAppError } from '#platform/http/errors.ts';
import type { BrokerState } from '#platform/nats/connect.ts';
import { poolNames, type Pool } from '#platform/pools.ts';
import { rejectReason, type IngressEvents } from './events.ts';
import { retryAfter } from './publisher.ts';
import type { QueueState } from './queue-state.ts';

/** A refusal as it goes on the wire before Fastify: status, headers and body. */
type Wire = { status: number; headers: string[]; text: string };

export type Refusal = {
  readonly error: AppError;
  /** Counts it in tps_jobs_rejected_total (and logs a broker outage, at most every 10 s). */
  readonly count: () => void;
  /** Built once for the refusals answered before Fastify. */
  readonly wire?: Wire;
};

export type LoadShedding = {
  /** Before the body is read: a refusal, `'read-body'` when only the job's pool can decide, or undefined to go on. */
  beforeBody(): Refusal | 'read-body' | undefined;
  /** Once the job's pool is known: its queue known full, or undefined to go on. */
  forPool(pool: Pool): Refusal | undefined;
  /** An error raised on the way as a refusal, or undefined when it is not one (an internal error). */
  ofError(err: unknown, pool: Pool | undefined): Refusal | undefined;
  /** NATS not connected: also the answer of GET /jobs/:id then (not counted as a refused job). */
  readonly brokerDown: Refusal;
};

function wireOf(error: AppError): Wire {
  const text = JSON.stringify(error.toJSON());
  const headers = ['content-type', 'application/json; charset=utf-8', 'content-length', String(Buffer.byteLength(text))];
  if (error.retryAfterSeconds !== undefined) headers.push('retry-after', String(error.retryAfterSeconds));
  return { status: error.status, headers, text };
}

export function loadShedding(broker: BrokerState, queues: QueueState, events: IngressEvents): LoadShedding {
  const prebuilt = (error: AppError, pool: Pool | undefined): Refusal => ({ error, count: events.rejection(pool, error), wire: wireOf(error) });
  const queueFull = (which: string) => new AppError('QUEUE_FULL', { detail: `(pool ${which})`, retryAfterSeconds: retryAfter.queueFull });
  const brokerDown = prebuilt(new AppError('BROKER_UNAVAILABLE', { detail: '(not connected to NATS)', retryAfterSeconds: retryAfter.brokerUnavailable }), undefined);
  const everyQueueFull = prebuilt(queueFull(poolNames.join(' and ')), undefined);
  const poolFull = Object.fromEntries(poolNames.map((pool) => [pool, prebuilt(queueFull(pool), pool)])) as Record<Pool, Refusal>;
  return {
    beforeBody() {
      if (!broker.connected()) return brokerDown;
      if (queues.allFull()) return everyQueueFull;
      return queues.anyFull() ? 'read-body' : undefined;
    },
    forPool: (pool) => (queues.isFull(pool) ? poolFull[pool] : undefined),
    ofError(err, pool) {
      const error = toAppError(err);
      return rejectReason(error) === undefined ? undefined : { error, count: () => events.rejected(pool, error) };
    },
    brokerDown,
  };
}

/**
 * Sends a refusal, the one way every refusal of POST /jobs goes out, once counted. Before Fastify
 * (the preempt hook) as its prebuilt bytes in one write; inside Fastify through the kit's error
 * handler, like any catalogue error, so the reply's hooks still apply (rate-limit headers, the
 * request duration histogram, the span's `error.type`).
 */
export function sendRefusal(to: FastifyReply, refusal: Refusal): FastifyReply;
export function sendRefusal(to: ServerResponse, refusal: Refusal): undefined;
export function sendRefusal(to: ServerResponse | FastifyReply, refusal: Refusal): FastifyReply | undefined {
  refusal.count();
  if (!(to instanceof http.ServerResponse)) return errorHandler(refusal.error, to.request, to);
  const wire = refusal.wire ?? wireOf(refusal.error);
  to.writeHead(wire.status, wire.headers);
  // A string body goes out with the headers in one write; a Buffer would take a second (writev).
  to.end(wire.text);
  return undefined;
}

/** POST /jobs' rate limit: RATE_LIMIT_RPS jobs a second for the whole ingress, beyond it 429 with
 * Retry-After (raised by @fastify/rate-limit, answered by sendRefusal); none at 0. */
export function rateLimitRoute(perSecond: number): { rateLimit?: RateLimitOptions } {
  if (perSecond <= 0) return {};
  return {
    rateLimit: {
      max: perSecond,
      timeWindow: 1_000,
      keyGenerator: () => 'ingress',
      errorResponseBuilder: (_req, ctx) => new AppError('RATE_LIMITED', { retryAfterSeconds: Math.max(1, Math.ceil(ctx.ttl / 1000)) }),
    },
  };
}
