// Starts the ingress role: checks the topology, tracks the queues, listens.
import { jetstreamManager } from '@nats-io/jetstream';
import { startChaos } from '#platform/chaos/injector.ts';
import { openChaosStore } from '#platform/chaos/store.ts';
import { openIdempotencyStore } from '#platform/idempotency.ts';
import { openJobStatusStore } from '#platform/job-status.ts';
import { brokerState } from '#platform/nats/connect.ts';
import { verifyTopology } from '#platform/nats/provision.ts';
import { buckets } from '#platform/nats/subjects.ts';
import { declareTopology } from '#platform/nats/topology.ts';
import { defaultPorts } from '#platform/ports.ts';
import { poolDefinitions } from '#platform/pools.ts';
import { listen, type RoleContext } from '#platform/role-runtime.ts';
import { buildIngress } from './app.ts';
import { createPublisher } from './publisher.ts';
import { trackQueues } from './queue-state.ts';
import { startStoreGauges } from './store-gauges.ts';

export async function startIngress(ctx: RoleContext): Promise<number> {
  const { config, logger, registry, nc, lifecycle } = ctx;
  const jsm = await jetstreamManager(nc);
  await verifyTopology(jsm, declareTopology(config), {
    streams: [poolDefinitions.fast.stream, poolDefinitions.slow.stream, `KV_${buckets.jobs}`, `KV_${buckets.idempotency}`, `KV_${buckets.chaos}`],
  });
  const queues = trackQueues(jsm, { registry, logger, pollMs: config.ingress.queuePollMs });
  await queues.refresh();
  // The ingress is the one role that also exports the gauge of the system faults (nats_down, ...).
  const chaos = await startChaos('ingress', await openChaosStore(nc), { registry, logger, reportSystemFaults: true });
  const publisher = createPublisher(nc, { timeoutMs: config.ingress.publishTimeoutMs, chaos });
  const jobStatus = await openJobStatusStore(nc);
  const idempotency = await openIdempotencyStore(nc, { timeoutMs: config.ingress.publishTimeoutMs });
  // Slower than the queue poll: the stores fill over minutes, and each read is a stream info.
  const storeGauges = startStoreGauges(jsm, registry, 1_000);
  await storeGauges.read();
  const app = await buildIngress({
    config,
    logger,
    registry,
    broker: brokerState(nc),
    queues,
    publisher,
    jobStatus,
    idempotency,
  });
  const port = await listen(app, ctx, defaultPorts.ingress);
  lifecycle.onShutdown('stop queue polling', () => { queues.stop(); storeGauges.stop(); });
  lifecycle.onShutdown('close publishers', () => { publisher.close(); jobStatus.close(); idempotency.close(); chaos.stop(); });
  return port;
}
