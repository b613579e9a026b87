// A full DLQ strands nothing and takes no capacity silently. With DLQ_CAPACITY 3, six poison jobs
// (refused by service-a as unprocessable): three are dead-lettered, the other three cannot be, so
// they stay in their queue after their last delivery and the workers count them in
// tps_dlq_blocked_jobs; once an operator purges the DLQ, every one of them ends dead-lettered.
// (That no wait is too long, however long the DLQ stays full, is tests/advisory-mover.test.ts.)
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDlqOperations } from '#platform/dlq/operations.ts';
import { tps } from '#devenv/cli.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { metricValue, settle, startStack, submit, type Stack } from '#devenv/stack.ts';

const dlqCapacity = 3;
let server: NatsServerHandle;
let stack: Stack;

beforeAll(async () => {
  server = await startNatsServer();
  stack = await startStack(server.url, { DLQ_CAPACITY: String(dlqCapacity), AUTOSCALER_ENABLED: 'false' });
}, 90_000);
afterAll(async () => {
  await stack?.stop();
  await server?.dispose();
}, 60_000);

const blocked = () => metricValue(stack.url('worker-fast'), /^tps_dlq_blocked_jobs\{pool="fast"\}/);
const messages = async (stream: string) => (await (await jetstreamManager(stack.nc)).streams.info(stream)).state.messages;

it('keeps poison jobs the full DLQ refuses queued and counted, and dead-letters all of them once it is purged', async () => {
  const ids = await submit(stack, 'fast.lookup', 2 * dlqCapacity, { key: 42 });
  expect(ids).toHaveLength(2 * dlqCapacity);
  const submitted = Date.now();
  await waitFor(async () => ((await blocked()) === dlqCapacity ? true : undefined), 30_000, () => `tps_dlq_blocked_jobs to show ${dlqCapacity} jobs`);
  const countedAfterMs = Date.now() - submitted;
  const before = await Promise.all(ids.map((id) => stack.status.read(id)));
  // R16: a permanent failure goes to the DLQ on its first attempt (while there is room).
  expect(before.filter((v) => v?.status === 'dead_lettered').map((v) => v?.attempts)).toEqual([1, 1, 1]);
  expect({ dlq: await messages('DLQ'), queued: await messages('JOBS_FAST') }).toEqual({ dlq: dlqCapacity, queued: dlqCapacity });

  const purge = await tps(['dlq', 'purge', '--all', '--yes'], { NATS_URL: server.url });
  expect(purge.code, purge.stderr).toBe(0);
  const purged = Date.now();
  const views = await settle(stack, ids, 30_000);
  console.info(`DLQ full: ${dlqCapacity} blocked jobs counted ${countedAfterMs} ms after submission; all ${ids.length} dead-lettered ${Date.now() - purged} ms after the purge`);
  expect(ids.map((id) => views.get(id)?.status)).toEqual(ids.map(() => 'dead_lettered'));
  await waitFor(async () => ((await blocked()) === 0 ? true : undefined), 10_000, () => 'tps_dlq_blocked_jobs back to 0');
  expect({ dlq: await messages('DLQ'), queued: await messages('JOBS_FAST') }).toEqual({ dlq: dlqCapacity, queued: 0 });
  // The blocked ones came through their MAX_DELIVERIES advisories, after every delivery.
  const ops = await openDlqOperations(stack.nc);
  const entries = await ops.list({});
  ops.close();
  const blockedIds = ids.filter((_, i) => before[i]?.status !== 'dead_lettered').sort();
  expect(entries.map((e) => [e.jobId, e.reason, e.attempts]).sort()).toEqual(blockedIds.map((id) => [id, 'delivery_timeout', 4]));
}, 90_000);
