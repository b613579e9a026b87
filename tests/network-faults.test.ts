// Network faults between worker-fast and service-a (reliability matrix D5): the worker reaches
// service-a through a TCP proxy of the test's own (devenv/tcp-proxy.ts, Toxiproxy's toxics of the
// same names: `slicer`, `reset_peer`, `bandwidth`) while every role is a real process. What must
// hold: each fault is classified retryable and bounded by the call's deadline, and every accepted
// job ends completed or dead-lettered.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { startTcpProxy, type TcpProxy } from '#devenv/tcp-proxy.ts';
import { metricValue, settle, startStack, submit, type Stack } from '#devenv/stack.ts';
import { poolDefinitions } from '#platform/pools.ts';

let server: NatsServerHandle;
let proxy: TcpProxy;
let stack: Stack;
let servicePort = 0;

beforeAll(async () => {
  server = await startNatsServer();
  // service-a's port is the stack's to choose: the proxy reads it at each connection.
  proxy = await startTcpProxy(() => servicePort);
  stack = await startStack(server.url, { SERVICE_A_URL: `http://127.0.0.1:${proxy.port}`, BREAKER_RESET_MS: '2s' });
  servicePort = Number(new URL(stack.url('service-a')).port);
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await proxy?.close();
  await server?.dispose();
});

const worker = () => stack.url('worker-fast');
/** worker-fast's calls to service-a that ended with `outcome` (within `le` seconds), by the call's duration histogram. */
const calls = (outcome: string, le?: string) => {
  const labels = `caller="worker-fast",target="service-a",outcome="${outcome}"`;
  return le === undefined
    ? metricValue(worker(), new RegExp(`^tps_downstream_request_duration_seconds_count\\{${labels}\\}`))
    : metricValue(worker(), new RegExp(`^tps_downstream_request_duration_seconds_bucket\\{le="${le}",${labels}\\}`));
};
const retries = () => metricValue(worker(), /^tps_jobs_processed_total\{pool="fast",type="fast\.echo",outcome="retry"\}/);

it('every packet sliced into 1-7 bytes, 1 ms apart: each exchange still whole, every job completes at its first attempt', async () => {
  const fastBefore = await calls('success', '0.025');
  proxy.setFaults({ sliceBytes: 7, sliceDelayMs: 1 });
  const ids = await submit(stack, 'fast.echo', 20, { note: 'sliced '.repeat(20) });
  const views = await settle(stack, ids, 30_000);
  proxy.setFaults({});
  expect(ids).toHaveLength(20);
  expect([...views.values()].map((v) => `${v.status}/${v.attempts}`)).toEqual(ids.map(() => 'completed/1'));
  // The slices were in force: a request of some 600 bytes took over 80 slices, none under 25 ms.
  expect((await calls('success', '0.025')) - fastBefore).toBe(0);
});

it('a quarter of service-a\'s answers cut by a reset: retried as UNREACHABLE, the work done twice counted as a duplicate, no job lost', async () => {
  const [retriesBefore, duplicatesBefore] = [await retries(), await metricValue(stack.url('service-a'), /^tps_service_duplicates_total/)];
  proxy.setFaults({ resetShare: 0.25 });
  const ids = await submit(stack, 'fast.echo', 40);
  const views = await settle(stack, ids, 60_000);
  proxy.setFaults({});
  const ended = [...views.values()];
  const completed = ended.filter((v) => v.status === 'completed');
  const unreachable = await calls('unreachable');
  const duplicates = (await metricValue(stack.url('service-a'), /^tps_service_duplicates_total/)) - duplicatesBefore;
  console.info(`D5 reset: ${proxy.resets()} answers reset; ${completed.length} of ${ids.length} completed, ${ended.length - completed.length} dead-lettered; ${(await retries()) - retriesBefore} retries, ${unreachable} calls unreachable; ${duplicates} duplicates at service-a`);
  expect(ended).toHaveLength(ids.length);
  expect(proxy.resets()).toBeGreaterThan(0);
  // Four deliveries all reset: 0.25^4 per job, one job in 256.
  expect(completed.length).toBeGreaterThanOrEqual(ids.length - 2);
  expect((await retries()) - retriesBefore).toBeGreaterThan(0);
  expect(unreachable).toBeGreaterThan(0);
  // The answer was lost after service-a did the work: its next call is the same Idempotency-Key.
  expect(duplicates).toBeGreaterThan(0);
  for (const v of ended.filter((e) => e.status === 'dead_lettered')) expect(v.error?.code).toBe('UNREACHABLE');
});

it('the link at 100 bytes/s: each call gives up at the fast pool\'s 2 s deadline, and the job completes once the link is back', async () => {
  const deadlineS = poolDefinitions.fast.attemptTimeoutMs / 1000;
  // Within 5 s (the histogram's bucket above 2.5 s): margin for a loaded machine's late timer, and
  // still well short of what the link itself takes (600 bytes at 100 bytes/s: 6 s).
  const before = { timeouts: await calls('timeout'), withinDeadline: await calls('timeout', '5') };
  proxy.setFaults({ bytesPerSecond: 100 });
  const [id] = await submit(stack, 'fast.echo', 1);
  // Two attempts timed out (backoff 200 ms, then 1 s), then the link is back for the third.
  await waitFor(async () => ((await calls('timeout')) - before.timeouts >= 2 ? true : undefined), 20_000, () => 'two calls to time out');
  proxy.setFaults({});
  const view = (await settle(stack, [id as string], 30_000)).get(id as string);
  const timeouts = (await calls('timeout')) - before.timeouts;
  const withinDeadline = (await calls('timeout', '5')) - before.withinDeadline;
  console.info(`D5 bandwidth: ${timeouts} calls timed out, ${withinDeadline} of them within 5 s (deadline ${deadlineS} s); the job ${view?.status} at attempt ${view?.attempts}`);
  expect(view?.status).toBe('completed');
  expect(view?.attempts).toBeGreaterThanOrEqual(3);
  expect(withinDeadline).toBe(timeouts);
});
