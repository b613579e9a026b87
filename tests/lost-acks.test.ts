// Acks lost on the wire after the work was done (reliability matrix R13): every role reaches
// nats-server through the test's proxy (devenv/tcp-proxy.ts, reading NATS frames), which for a
// while forwards everything but the workers' `+ACK`s. Each job was worked and stored `completed`
// before its ack, so nothing the job's owner sees changes; JetStream, with no ack, delivers it
// again after ack_wait and the worker runs it again: the services count the repeated
// Idempotency-Key as a duplicate, `tps audit` reports it, and no job is lost, dead-lettered or
// shown as anything but completed.
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { auditJobs } from '#operator/audit/audit.ts';
import { poolDefinitions } from '#platform/pools.ts';
import { streams } from '#platform/nats/subjects.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { startTcpProxy, type TcpProxy } from '#devenv/tcp-proxy.ts';
import { metricValue, settle, startStack, submit, type Stack } from '#devenv/stack.ts';

let server: NatsServerHandle;
let proxy: TcpProxy;
let stack: Stack;

beforeAll(async () => {
  server = await startNatsServer();
  proxy = await startTcpProxy(Number(new URL(server.url).port), { nats: true });
  // No simulated work: the jobs are done at once, and lose only their acks.
  stack = await startStack(`nats://127.0.0.1:${proxy.port}`, { ACK_WAIT_MS: '3s', WORK_SCALE: '0' });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await proxy?.close();
  await server?.dispose();
});

it('acks lost after the work: each job delivered again after ack_wait, worked twice, counted as a duplicate, still completed, none lost', async () => {
  const jsm = await jetstreamManager(stack.nc);
  const duplicates = () => metricValue(stack.url('service-c'), /^tps_service_duplicates_total/);
  const before = await duplicates();
  proxy.setFaults({ dropAcks: true });
  const ids = await submit(stack, 'slow.report', 10);
  expect(ids).toHaveLength(10);
  // Worked and stored completed, every ack swallowed on its way to nats-server.
  await settle(stack, ids, 20_000);
  await waitFor(() => (proxy.droppedAcks() >= ids.length ? true : undefined), 10_000, () => `the ${ids.length} acks to be dropped (${proxy.droppedAcks()} so far)`);
  expect((await jsm.streams.info(poolDefinitions.slow.stream)).state.messages).toBe(ids.length);
  proxy.setFaults({});

  // After ack_wait each job comes back, is worked again and acked this time.
  await waitFor(async () => ((await jsm.streams.info(poolDefinitions.slow.stream)).state.messages === 0 ? true : undefined), 30_000, () => 'the redelivered jobs to be acked');
  const views = await settle(stack, ids, 10_000);
  const audit = await auditJobs(stack.nc, ids, { serviceCUrl: stack.url('service-c') });
  const attempts = [...views.values()].map((v) => v.attempts);
  console.info(`R13: ${proxy.droppedAcks()} acks dropped; attempts ${attempts.join(' ')}; ${(await duplicates()) - before} duplicates at service-c; audit: ${audit.completed} completed, ${audit.lost} lost, ${audit.duplicates} duplicates`);
  expect([...views.values()].map((v) => v.status)).toEqual(ids.map(() => 'completed'));
  // Each delivered again at least once (twice when a loaded machine took past ack_wait to heal the
  // link); every delivery but the first of a job is a duplicate at service-c.
  expect(Math.min(...attempts)).toBeGreaterThanOrEqual(2);
  expect((await duplicates()) - before).toBe(attempts.reduce((a, b) => a + b, 0) - ids.length);
  expect(audit).toMatchObject({ accepted: ids.length, completed: ids.length, deadLettered: 0, lost: 0, duplicates: ids.length });
  expect((await jsm.streams.info(streams.dlq)).state.messages).toBe(0);
}, 60_000);
