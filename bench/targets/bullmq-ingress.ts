// The BullMQ pipeline's ingress (issue 19's peer): what a team would build instead of ours, a
// Fastify server that validates a job and `Queue.add`s it, answering 202 with the id once Redis
// has it. Job state is BullMQ's own (kept in Redis: waiting, active, completed with its result).
//   node bench/targets/bullmq-ingress.ts <http port> <redis port>
import Fastify from 'fastify';
import { Queue } from 'bullmq';
import { z } from 'zod';
import { findJobType } from '#platform/job-catalogue.ts';

const [port, redisPort] = process.argv.slice(2).map(Number);
const queue = new Queue('jobs', { connection: { host: '127.0.0.1', port: redisPort }, defaultJobOptions: { attempts: 4, backoff: { type: 'fixed', delay: 200 }, removeOnComplete: { age: 3600 } } });
const body = z.object({ type: z.string().refine((t) => findJobType(t) !== undefined, 'a job type of the catalogue'), payload: z.record(z.string(), z.unknown()).optional() });

const app = Fastify({ logger: false });
app.get('/readyz', async () => ({ ok: true }));
app.post('/jobs', async (request, reply) => {
  const parsed = body.safeParse(request.body);
  if (!parsed.success) return reply.code(400).send({ code: 'INVALID_REQUEST', message: parsed.error.message });
  const job = await queue.add(parsed.data.type, { type: parsed.data.type, payload: parsed.data.payload ?? {} });
  return reply.code(202).send({ id: job.id, status: 'accepted' });
});
await app.listen({ port, host: '127.0.0.1' });
process.once('SIGTERM', () => { void app.close().then(() => queue.close()).then(() => process.exit(0)); });
