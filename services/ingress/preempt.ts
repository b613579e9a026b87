// Load shedding before Fastify (the HTTP kit's preempt hook): a POST /jobs that cannot be accepted
// is answered from cached state at the cost of a bare HTTP exchange, so refusing under overload
// stays far cheaper than accepting. NATS not connected or every queue full: refused before the
// body is read, whatever it holds. One queue full: the body is read and checked as the route
// would check it (so a bad request still gets its 400), and a job for the full pool is refused;
// every other request goes on to the route, its body handed on.
import type { IncomingMessage } from 'node:http';
import { readSubmission } from '#platform/admission/submission.ts';
import { AppError } from '#platform/errors.ts';
import { parseJsonBody } from '#platform/http/json-body.ts';
import type { Preempt } from '#platform/http/preempt.ts';
import { sendRefusal, type LoadShedding } from './load-shedding.ts';

const submitRoute = '/jobs';

const isSubmit = (req: IncomingMessage) => req.method === 'POST' && (req.url === submitRoute || req.url?.startsWith('/jobs?') === true);

export function shedBeforeRouting(shedding: LoadShedding): Preempt {
  return {
    beforeBody(req, res) {
      if (!isSubmit(req)) return undefined;
      const decision = shedding.beforeBody();
      if (decision === undefined || decision === 'read-body') return decision;
      sendRefusal(res, decision);
      return submitRoute;
    },
    withBody(_req, res, body) {
      let value: unknown;
      try {
        value = parseJsonBody(body.toString('utf8'));
      } catch {
        return undefined;
      }
      const submission = readSubmission(value);
      const refusal = submission instanceof AppError ? undefined : shedding.forPool(submission.jobType.pool);
      if (refusal === undefined) return undefined;
      sendRefusal(res, refusal);
      return submitRoute;
    },
  };
}
