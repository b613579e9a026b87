// Starts a worker process for one pool (fast or slow): the same code for both, only the pool
// definition differs. Shutdown stops pulling first, lets running jobs finish (or hands them back
// after the grace period), and only then drains NATS.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { startChaos } from '#platform/chaos/injector.ts';
import { openChaosStore } from '#platform/chaos/store.ts';
import { obeyControl } from '#platform/control/obey.ts';
import { openControlStore } from '#platform/control/store.ts';
import { createDownstreamClient } from '#platform/http/downstream.ts';
import { createHttpApp } from '#platform/http/server.ts';
import { openJobStatusStore } from '#platform/job-status.ts';
import { gauge, metrics } from '#platform/metrics.ts';
import { brokerState } from '#platform/nats/connect.ts';
import { verifyTopology } from '#platform/nats/provision.ts';
import { buckets, streams } from '#platform/nats/subjects.ts';
import { declareTopology } from '#platform/nats/topology.ts';
import { defaultPorts } from '#platform/ports.ts';
import { poolDefinitions, type Pool } from '#platform/pools.ts';
import { listen, type RoleContext } from '#platform/role-runtime.ts';
import { startAdvisoryMover } from './advisory-mover.ts';
import { workerEvents } from './events.ts';
import { startHeartbeat } from './heartbeat.ts';
import { startPoolLoop } from './pool.ts';
import { processJob } from './process-job.ts';
import { startQueueGauges } from './queue-gauges.ts';
import { countReplays } from './replay-metrics.ts';

export async function startWorker(ctx: RoleContext, pool: Pool): Promise<number> {
  const { config, logger, registry, nc, lifecycle } = ctx;
  const def = poolDefinitions[pool];
  const role = `worker-${pool}` as const;
  const jsm = await jetstreamManager(nc);
  await verifyTopology(jsm, declareTopology(config), {
    streams: [def.stream, streams.dlq, streams.advisories, `KV_${buckets.jobs}`, `KV_${buckets.chaos}`, `KV_${buckets.control}`],
    consumers: [def.consumer],
  });
  const js = jetstream(nc);
  const status = await openJobStatusStore(nc);
  const chaos = await startChaos(role, await openChaosStore(nc), { registry, logger });
  const client = createDownstreamClient({
    caller: role,
    target: 'service-a',
    url: config.chain.urls['service-a'],
    policy: { ...config.breakers, timeoutMs: def.attemptTimeoutMs, capacity: def.slots.max },
    // The pool stops pulling when its jobs fail anywhere down the chain (Jidoka).
    countPropagated: true,
    chaos,
    registry,
    logger,
  });
  const events = workerEvents(pool, { registry, logger, status });
  const consumer = await js.consumers.get(def.stream, def.consumer);
  // Heartbeats follow the ack_wait JetStream applies (set when the topology was provisioned; 30 s
  // is the server's own default), not this process's ACK_WAIT_MS, which nothing ties to it.
  const ackWaitMs = ((await consumer.info(true)).config.ack_wait ?? 30e9) / 1e6;
  const jobContext = { def, ackWaitMs, instance: config.instanceId, js, client, status, events };

  // WORKER_SLOTS is only the starting point: once tps_control has slots for the pool, they win.
  const control = await openControlStore(nc);
  const slots = (await control.slots(pool))?.slots ?? config.workers.slots ?? def.slots.initial;
  const loop = startPoolLoop({
    consumer,
    slots: Math.min(Math.max(slots, def.slots.min), def.slots.max),
    handle: (msg) => processJob(msg, jobContext),
    breakerState: () => client.breaker.state(),
    onBreakerChange: (listener) => client.breaker.onStateChange(listener),
    logger,
  });
  gauge(registry, metrics.workerSlots, (g) => g.set({ pool }, loop.slots));
  gauge(registry, metrics.workerBusy, (g) => g.set({ pool }, loop.busy));
  const stopHeartbeat = startHeartbeat(nc, () => ({ instance: config.instanceId, pool, slots: loop.slots, busy: loop.busy }), config.workers.heartbeatMs);
  const stopGauges = startQueueGauges(jsm, def, registry, 1_000);
  const stopControl = await obeyControl(nc, control, {
    instance: config.instanceId,
    role,
    logger,
    pool: { pool, bounds: def.slots, slots: () => loop.slots, setSlots: (n) => loop.setSlots(n) },
    breakers: [client.breaker],
  });
  const stopReplayCount = countReplays(nc, pool, registry);
  const stopMover = await startAdvisoryMover(nc, js, pool, { logger, instance: config.instanceId, events });

  const broker = brokerState(nc);
  const app = createHttpApp({
    service: role,
    logger,
    registry,
    timeouts: config.http,
    readiness: () => ({ nats: broker.connected() ? true : 'not connected to NATS' }),
  });
  lifecycle.onShutdown('stop pulling and finish running jobs', () => loop.stop(config.shutdownGraceMs));
  lifecycle.onShutdown('stop heartbeats and gauges', () => { stopHeartbeat(); stopGauges(); stopMover(); chaos.stop(); stopControl(); stopReplayCount(); });
  lifecycle.onShutdown('close the service-a client', () => client.close());
  lifecycle.onShutdown('close the status store', () => status.close());
  const port = await listen(app, ctx, defaultPorts[role]);
  logger.info({ pool, slots: loop.slots, stream: def.stream, consumer: def.consumer }, 'worker pulling');
  return port;
}
