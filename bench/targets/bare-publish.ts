// Baselines for the ingress benchmark: a bare Fastify route that does only the JetStream publish,
// nothing else. PUBLISHER=js uses nats.js `js.publish` (what anyone would write first);
// PUBLISHER=coalescing uses the same publisher as the ingress, so the difference to the ingress
// is the ingress's own overhead (validation, rate limit, metrics, status note).
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { jetstream } from '@nats-io/jetstream';
import { loadConfig } from '#platform/config.ts';
import { createLogger } from '#platform/logger.ts';
import { connectNats } from '#platform/nats/connect.ts';
import { createJetStreamPublisher } from '#platform/nats/jetstream-publisher.ts';

const config = loadConfig();
const nc = await connectNats(config.nats, { name: 'bench-bare', logger: createLogger('bench-bare', config) });
const js = jetstream(nc);
const coalescing = createJetStreamPublisher(nc, { timeoutMs: 2_000 });
const publish = process.argv.includes('--coalescing')
  ? (subject: string, data: Uint8Array, msgID: string) => coalescing.publish(subject, data, { msgID })
  : (subject: string, data: Uint8Array, msgID: string) => js.publish(subject, data, { msgID });

const app = Fastify();
app.get('/readyz', async () => ({ ok: true }));
app.post('/jobs', async (request, reply) => {
  const id = randomUUID();
  const body = request.body as { type: string };
  await publish(`jobs.${body.type}`, Buffer.from(JSON.stringify({ id, ...body })), id);
  return reply.code(202).send({ id });
});
await app.listen({ host: '127.0.0.1', port: config.http.port ?? 0 });
process.once('SIGTERM', () => { void app.close().then(() => nc.drain()); });
