// Starts a worker process for one pool: the same code for every pool, only the pool definition
// differs. runRole (platform/role-runtime.ts) checks the topology, starts chaos, serves /metrics and
// makes the pool follow `tps scale` and the breaker levers. Shutdown closes the HTTP server, then
// stops pulling and lets running jobs finish (or hands them back after the grace period), then
// closes the client and stores those jobs needed, and only then drains NATS.
import { jetstream, jetstreamManager, type Consumer } from '@nats-io/jetstream';
import { openControlStore } from '#platform/control/store.ts';
import { createDownstreamClient, type DownstreamClient } from '#platform/http/downstream.ts';
import { openJobStatusStore } from '#platform/job-status.ts';
import { gauge, metrics } from '#platform/metrics.ts';
import { poolDefinitions, workerRole, type Pool, type PoolDefinition } from '#platform/pools.ts';
import type { RoleContext, RoleParts } from '#platform/role-runtime.ts';
import { startAdvisoryMover } from './advisory-mover.ts';
import { workerEvents } from './events.ts';
import { startHeartbeat } from './heartbeat.ts';
import { startPoolLoop, type PoolLoop } from './pool.ts';
import { outboxOf } from '#platform/nats/outbox.ts';
import { processJob, type JobContext } from './process-job.ts';
import { startQueueGauges } from './queue-gauges.ts';
import { countReplays } from './replay-metrics.ts';

export async function startWorker(ctx: RoleContext, pool: Pool): Promise<RoleParts> {
  const { config, logger, nc } = ctx;
  const def = poolDefinitions[pool];
  const js = jetstream(nc);
  const status = ctx.own('close the status store', await openJobStatusStore(nc), (s) => s.close());
  const client = ctx.own('close the service-a client', chainClient(ctx, def), (c) => c.close());
  const events = workerEvents(pool, { registry: ctx.registry, logger, status });
  const consumer = await js.consumers.get(def.stream, def.consumer);
  const jobContext: JobContext = { def, ackWaitMs: await serverAckWaitMs(consumer), instance: config.instanceId, js, client, status, events, outbox: outboxOf(ctx.nc) };
  const loop = ctx.own('stop pulling and finish running jobs', await startPulling(ctx, def, consumer, client, jobContext), (l) => l.stop(config.shutdownGraceMs));
  await startSidelines(ctx, def, loop, jobContext);
  logger.info({ pool, slots: loop.slots, stream: def.stream, consumer: def.consumer }, 'worker pulling');
  return {
    breakers: [client.breaker],
    pool: { pool, bounds: def.slots, slots: () => loop.slots, setSlots: (n) => loop.setSlots(n) },
  };
}

/** The pool's client for service-a: its breaker stops the pool pulling when its jobs fail anywhere
 * down the chain (Jidoka), and chaos aimed at the worker acts on these calls. */
function chainClient(ctx: RoleContext, def: PoolDefinition): DownstreamClient {
  return createDownstreamClient({
    caller: workerRole(def.pool),
    target: 'service-a',
    url: ctx.config.chain.urls['service-a'],
    policy: { ...ctx.config.breakers, timeoutMs: def.attemptTimeoutMs, capacity: def.slots.max },
    countPropagated: true,
    chaos: ctx.chaos,
    registry: ctx.registry,
    logger: ctx.logger,
  });
}

/** Heartbeats follow the ack_wait JetStream applies (set when the topology was provisioned; 30 s
 * is the server's own default), not this process's ACK_WAIT_MS, which nothing ties to it. */
async function serverAckWaitMs(consumer: Consumer): Promise<number> {
  return ((await consumer.info(true)).config.ack_wait ?? 30e9) / 1e6;
}

async function startPulling(ctx: RoleContext, def: PoolDefinition, consumer: Consumer, client: DownstreamClient, jobContext: JobContext): Promise<PoolLoop> {
  // WORKER_SLOTS is only the starting point: once tps_control has slots for the pool, they win.
  const stored = await (await openControlStore(ctx.nc)).slots(def.pool);
  const slots = stored?.slots ?? ctx.config.workers.slots ?? def.slots.initial;
  const loop = startPoolLoop({
    consumer,
    slots: Math.min(Math.max(slots, def.slots.min), def.slots.max),
    handle: (msg) => processJob(msg, jobContext),
    breakerState: () => client.breaker.state(),
    onBreakerChange: (listener) => client.breaker.onStateChange(listener),
    logger: ctx.logger,
    brokerConnected: ctx.broker.connected,
    brokerDown: ctx.broker.down,
  });
  gauge(ctx.registry, metrics.workerSlots, (g) => g.set({ pool: def.pool }, loop.slots));
  gauge(ctx.registry, metrics.workerBusy, (g) => g.set({ pool: def.pool }, loop.busy));
  return loop;
}

/** What runs beside the pulling: heartbeats for the autoscaler, queue gauges, the replay counter
 * and the advisory mover (the DLQ safety net). Each is its own shutdown step. */
async function startSidelines(ctx: RoleContext, def: PoolDefinition, loop: PoolLoop, { events, status }: Pick<JobContext, 'events' | 'status'>): Promise<void> {
  const { config, nc, own } = ctx;
  const instance = config.instanceId;
  own('stop heartbeats', startHeartbeat(nc, () => ({ instance, pool: def.pool, slots: loop.slots, busy: loop.busy }), config.workers.heartbeatMs), (stop) => stop());
  own('stop queue gauges', startQueueGauges(await jetstreamManager(nc), def, ctx.registry, 1_000), (stop) => stop());
  own('stop counting replays', countReplays(nc, def.pool, ctx.registry), (stop) => stop());
  own('stop the advisory mover', await startAdvisoryMover(nc, jetstream(nc), def.pool, { logger: ctx.logger, instance, events, status }), (stop) => stop());
}
