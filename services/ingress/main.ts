// Starts the ingress role: tracks the queues, opens the stores, builds the HTTP app. runRole
// (platform/role-runtime.ts) checks the topology, starts chaos (which acts on publishes here) and
// listens; shutdown stops accepting first, then polling, then closes the publisher and stores.
import { jetstreamManager } from '@nats-io/jetstream';
import { openIdempotencyStore } from '#platform/idempotency.ts';
import { openJobStatusStore } from '#platform/job-status.ts';
import type { RoleContext, RoleParts } from '#platform/role-runtime.ts';
import { buildIngress } from './app.ts';
import { createPublisher } from './publisher.ts';
import { trackQueues } from './queue-state.ts';
import { startStoreGauges } from './store-gauges.ts';

export async function startIngress(ctx: RoleContext): Promise<RoleParts> {
  const { config, logger, registry, nc, own } = ctx;
  const jsm = await jetstreamManager(nc);
  const publisher = own('close the publisher', createPublisher(nc, { timeoutMs: config.ingress.publishTimeoutMs, chaos: ctx.chaos }), (p) => p.close());
  const jobStatus = own('close the status store', await openJobStatusStore(nc), (s) => s.close());
  const idempotency = own('close the idempotency store', await openIdempotencyStore(nc, { timeoutMs: config.ingress.publishTimeoutMs }), (s) => s.close());
  const queues = own('stop queue polling', trackQueues(jsm, { registry, logger, pollMs: config.ingress.queuePollMs }), (q) => q.stop());
  await queues.refresh();
  // Slower than the queue poll: the stores fill over minutes, and each read is a stream info.
  const storeGauges = own('stop store gauges', startStoreGauges(jsm, registry, 1_000), (g) => g.stop());
  await storeGauges.read();
  const app = await buildIngress({ config, logger, registry, broker: ctx.broker, queues, publisher, jobStatus, idempotency });
  return { app };
}
