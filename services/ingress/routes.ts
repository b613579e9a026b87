// The ingress's routes. POST /jobs: a job of the catalogue is admitted onto its queue
// (platform/admission/) unless load shedding refuses it, answered 202 only after JetStream stored
// it. GET /jobs/:id: the job's status.
import type { FastifyInstance } from 'fastify';
import { admit, type Admission } from '#platform/admission/admit.ts';
import { admitKeyed, type Idempotency } from '#platform/admission/keyed.ts';
import { newJob, readIdempotencyKey, readSubmission } from '#platform/admission/submission.ts';
import { AppError } from '#platform/errors.ts';
import { errorHandler } from '#platform/http/errors.ts';
import { jobIdPattern, newJobId } from '#platform/job-message.ts';
import type { JobStatusStore } from '#platform/job-status.ts';
import type { BrokerState } from '#platform/nats/connect.ts';
import { rateLimitRoute, sendRefusal, type LoadShedding } from './load-shedding.ts';

export type SubmitRoute = { admission: Admission; idempotency: Idempotency; shedding: LoadShedding; rateLimitPerSecond: number };

export function registerSubmitRoute(app: FastifyInstance, r: SubmitRoute): void {
  app.post('/jobs', {
    config: rateLimitRoute(r.rateLimitPerSecond),
    // Errors before the job's pool is known (rate limit, body, schema) are refusals of pool
    // "unknown"; anything that is not a refusal is the kit's to answer and log.
    errorHandler: (err, request, reply) => {
      const refusal = r.shedding.ofError(err, undefined);
      return refusal ? sendRefusal(reply, refusal) : errorHandler(err, request, reply);
    },
  }, async (request, reply) => {
    const submission = readSubmission(request.body);
    if (submission instanceof AppError) throw submission;
    const pool = submission.jobType.pool;
    const full = r.shedding.forPool(pool);
    if (full) return sendRefusal(reply, full);
    try {
      const key = readIdempotencyKey(request.headers['idempotency-key']);
      if (key instanceof AppError) throw key;
      if (key !== undefined) {
        const accepted = await admitKeyed(r.admission, r.idempotency, key, submission);
        return reply.code(202).send({ id: accepted.id, pool, status: accepted.status, ...(accepted.duplicate ? { duplicate: true } : {}) });
      }
      const id = newJobId();
      await admit(r.admission, newJob(id, submission.jobType, submission.payload));
      return reply.code(202).send({ id, pool, status: 'accepted' });
    } catch (err) {
      const refusal = r.shedding.ofError(err, pool);
      if (refusal === undefined) throw err;
      return sendRefusal(reply, refusal);
    }
  });
}

export function registerStatusRoute(app: FastifyInstance, deps: { broker: BrokerState; jobStatus: JobStatusStore; shedding: LoadShedding }): void {
  app.get<{ Params: { id: string } }>('/jobs/:id', async (request) => {
    const { id } = request.params;
    if (!jobIdPattern.test(id)) throw new AppError('INVALID_REQUEST', { detail: 'A job id is a lowercase UUID.' });
    if (!deps.broker.connected()) throw deps.shedding.brokerDown.error;
    const view = await deps.jobStatus.read(id);
    if (!view) throw new AppError('JOB_NOT_FOUND', { detail: `(id ${id})` });
    return view;
  });
}
