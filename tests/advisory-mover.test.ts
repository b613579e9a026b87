// The safety net: a job whose last delivery is never acknowledged (its worker died every time)
// is moved to the DLQ from JetStream's MAX_DELIVERIES advisory, and taken off its queue.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openJobStatusStore } from '#platform/job-status.ts';
import { encodeJob, newJobId } from '#platform/job-message.ts';
import { createRegistry } from '#platform/metrics.ts';
import { maxDeliver, poolDefinitions } from '#platform/pools.ts';
import { startAdvisoryMover } from '#workers/advisory-mover.ts';
import { dlqHeaders } from '#workers/dead-letter.ts';
import { workerEvents } from '#workers/events.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from './helpers/nats-server.ts';
import { provisioned } from './helpers/roles.ts';

let server: NatsServerHandle;
let nc: NatsConnection;
beforeAll(async () => {
  server = await startNatsServer();
  nc = await provisioned(server.url, { ACK_WAIT_MS: '300ms' });
});
afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

it('moves a job whose every delivery timed out to the DLQ', async () => {
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const id = newJobId();
  await js.publish('jobs.fast.echo', encodeJob({ id, type: 'fast.echo', pool: 'fast', acceptedAt: new Date().toISOString() }), { msgID: id });

  // A worker that takes the job and dies before acking, on every delivery.
  const consumer = await js.consumers.get('JOBS_FAST', 'workers-fast');
  for (let delivery = 1; delivery <= maxDeliver(poolDefinitions.fast); delivery++) {
    const msg = await waitFor(() => consumer.next({ expires: 1_000 }).then((m) => m ?? undefined), 5_000, () => `delivery ${delivery}`);
    expect(msg.info.deliveryCount).toBe(delivery);
  }
  // One more pull makes the server notice the last delivery expired, and emit the advisory.
  await consumer.next({ expires: 1_000 });
  await waitFor(async () => ((await jsm.streams.info('ADVISORIES')).state.messages > 0 ? true : undefined), 5_000, () => 'the advisory');

  const status = await openJobStatusStore(nc);
  const stop = await startAdvisoryMover(nc, js, 'fast', {
    logger: pino({ level: 'silent' }),
    instance: 'test',
    events: workerEvents('fast', { registry: createRegistry({ defaults: false }), logger: pino({ level: 'silent' }), status }),
  });
  try {
    const entry = await waitFor(() => jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.fast.echo' }).catch(() => undefined).then((m) => m ?? undefined), 10_000, () => 'the DLQ entry');
    expect(entry.header?.get(dlqHeaders.jobId)).toBe(id);
    expect(entry.header?.get(dlqHeaders.errorCode)).toBe('WORKER_TIMEOUT');
    expect(entry.header?.get(dlqHeaders.reason)).toBe('delivery_timeout');
    expect(entry.header?.get(dlqHeaders.attempts)).toBe(String(maxDeliver(poolDefinitions.fast)));
    await waitFor(async () => ((await jsm.streams.info('JOBS_FAST')).state.messages === 0 ? true : undefined), 5_000, () => 'the job to leave its queue');
    expect(await status.read(id)).toMatchObject({ status: 'dead_lettered', error: { code: 'WORKER_TIMEOUT' } });
  } finally {
    stop();
  }
});
