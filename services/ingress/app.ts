// The ingress as a Fastify app that does not listen: POST /jobs and GET /jobs/:id on the shared
// HTTP kit, load shedding before Fastify (preempt.ts) and in the route (load-shedding.ts), jobs
// admitted by the platform's one admission (platform/admission/). Everything it talks to comes in
// through IngressDeps, so tests build it on a real NATS.
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Admission, JobPublish } from '#platform/admission/admit.ts';
import type { Idempotency } from '#platform/admission/keyed.ts';
import { countSubmitted } from '#platform/admission/submitted.ts';
import type { Config } from '#platform/config.ts';
import { isAppError } from '#platform/errors.ts';
import { createHttpApp, type ReadinessCheck } from '#platform/http/server.ts';
import type { IdempotencyStore } from '#platform/idempotency.ts';
import type { JobStatusStore } from '#platform/job-status.ts';
import type { Logger } from '#platform/logger.ts';
import type { MetricsRegistry } from '#platform/metrics.ts';
import type { BrokerState } from '#platform/nats/connect.ts';
import { ingressEvents } from './events.ts';
import { loadShedding } from './load-shedding.ts';
import { shedBeforeRouting } from './preempt.ts';
import type { Publisher } from './publisher.ts';
import type { QueueState } from './queue-state.ts';
import { registerStatusRoute, registerSubmitRoute } from './routes.ts';

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

export async function buildIngress(deps: IngressDeps): Promise<FastifyInstance> {
  const admission = ingressAdmission(deps);
  const shedding = loadShedding(deps.broker, deps.queues, ingressEvents(deps.registry, deps.logger));
  const app = createHttpApp({
    service: 'ingress',
    logger: deps.logger,
    registry: deps.registry,
    bodyLimit: deps.config.ingress.maxBodyBytes,
    timeouts: deps.config.http,
    preempt: shedBeforeRouting(shedding),
    readiness: readiness(deps),
  });
  await app.register(rateLimit, { global: false });
  registerSubmitRoute(app, { admission, idempotency: keyedAdmission(deps), shedding, rateLimitPerSecond: deps.config.ingress.rateLimitPerSecond });
  registerStatusRoute(app, { broker: deps.broker, jobStatus: deps.jobStatus, shedding });
  return app;
}

/** The ingress's side of admitting a job: its publisher, `accepted` noted without waiting. */
function ingressAdmission(deps: IngressDeps): Admission {
  const publish: JobPublish = (subject, data, opts, job) => deps.publisher.publish(subject, data, opts).catch((err: unknown) => {
    // A publish refused for a full queue tells the queue state at once, before the next poll.
    if (isAppError(err) && err.code === 'QUEUE_FULL') deps.queues.markFull(job.pool);
    throw err;
  });
  return { publish, jobStatus: deps.jobStatus, submitted: countSubmitted(deps.registry), waitForStatus: false };
}

/** Requests with an Idempotency-Key go through the key's record (platform/admission/keyed.ts). */
function keyedAdmission(deps: IngressDeps): Idempotency {
  return {
    keys: deps.idempotency,
    duplicateWindowMs: deps.config.idempotency.duplicateWindowMs,
    confirmFailed: (err: unknown) => deps.logger.warn({ err }, 'a keyed job is stored but its idempotency record could not be confirmed; a retry finds it'),
  };
}

function readiness({ broker, queues }: IngressDeps): ReadinessCheck {
  return () => ({
    nats: broker.connected() ? true : 'not connected to NATS',
    queues: queues.healthy() ? true : 'queue state unknown (JetStream not answering or streams missing)',
  });
}
