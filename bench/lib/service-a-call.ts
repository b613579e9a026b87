// The call to service-a that the benchmark's peer workers make (the BullMQ pipeline's and the
// floor's): the request, headers and timeout of our worker's first hop (platform/http/downstream.ts),
// so every side asks service-a for the same work.
import { Pool } from 'undici';
import { attemptHeader, deadlineHeader } from '#platform/http/downstream.ts';

export type ServiceACall = { id: string; type: string; payload: unknown; attempt: number };
export const serviceATimeoutMs = 2_000;

/** A keep-alive pool of `connections` to service-a, and the call through it. */
export function serviceAClient(url: string, connections: number) {
  const pool = new Pool(url, { connections });
  return {
    async call(job: ServiceACall): Promise<unknown> {
      const res = await pool.request({
        path: '/work', method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': job.id, [deadlineHeader]: String(Date.now() + serviceATimeoutMs), [attemptHeader]: String(job.attempt) },
        body: JSON.stringify({ jobId: job.id, type: job.type, payload: job.payload, attempt: job.attempt }),
      });
      const answer = await res.body.json();
      if (res.statusCode >= 300) throw new Error(`service-a answered ${res.statusCode}`);
      return answer;
    },
    close: () => pool.close(),
  };
}
