// Nothing accepted is lost: a worker killed with jobs in flight, NATS restarting under load, and
// a worker stopped with SIGTERM. The oracle is set arithmetic: every 202'd id ends completed or
// dead-lettered.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isAlive } from '#operator/supervisor/process-stamp.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { postJob } from '#devenv/roles.ts';
import { metricValue, settle, startStack, submit, type Stack } from '#devenv/stack.ts';

let server: NatsServerHandle;
let stack: Stack;

beforeAll(async () => {
  server = await startNatsServer();
  stack = await startStack(server.url, { ACK_WAIT_MS: '3s', BREAKER_RESET_MS: '2s', SHUTDOWN_GRACE_MS: '8s' });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await server?.dispose();
});

async function busy(role: 'worker-fast' | 'worker-slow'): Promise<number> {
  return metricValue(stack.url(role), new RegExp(`^tps_worker_busy\\{pool="${role.slice(7)}"\\}`)).catch(() => 0);
}

it('loses nothing when a worker is killed with -9 while jobs are in flight', async () => {
  const ids = await submit(stack, 'slow.export', 6);
  expect(ids).toHaveLength(6);
  await waitFor(async () => ((await busy('worker-slow')) >= 3 ? true : undefined), 10_000, () => 'jobs in flight');
  const pid = stack.supervisor.pidOf('worker-slow') ?? 0;
  process.kill(pid, 'SIGKILL');
  await waitFor(() => (isAlive(pid) ? undefined : true), 5_000, () => 'the worker to die');
  const views = await settle(stack, ids, 60_000);
  expect([...views.values()].map((v) => v.status)).toEqual(ids.map(() => 'completed'));
  // The killed worker's jobs came back after ack_wait and were done again by its replacement.
  expect(Math.max(...[...views.values()].map((v) => v.attempts))).toBeGreaterThanOrEqual(2);
});

it('drains on SIGTERM: running jobs finish, none is redelivered', async () => {
  const ids = await submit(stack, 'slow.export', 4);
  await waitFor(async () => ((await busy('worker-slow')) >= 2 ? true : undefined), 10_000, () => 'jobs in flight');
  const pid = stack.supervisor.pidOf('worker-slow') ?? 0;
  process.kill(pid, 'SIGTERM');
  await waitFor(() => (isAlive(pid) ? undefined : true), 15_000, () => 'the worker to stop');
  expect(stack.log('worker-slow')).toMatch(/"msg":"stopped"/);
  const views = await settle(stack, ids, 60_000);
  expect([...views.values()].map((v) => [v.status, v.attempts])).toEqual(ids.map(() => ['completed', 1]));
});

it('loses no accepted job when NATS restarts under load', async () => {
  const accepted: string[] = [];
  let stop = false;
  let refused = 0;
  const load = (async () => {
    while (!stop) {
      const r = await postJob(stack.url('ingress'), { type: Math.random() < 0.8 ? 'fast.echo' : 'slow.report' }).catch(() => undefined);
      if (r?.status === 202) accepted.push(String(r.json.id));
      else refused += 1;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  await waitFor(() => (accepted.length >= 40 ? true : undefined), 20_000, () => 'load to run');
  await server.stop();
  await new Promise((resolve) => setTimeout(resolve, 1_500)); // NATS stays down for a while
  await server.start();
  const afterRestart = accepted.length;
  await waitFor(() => (accepted.length >= afterRestart + 40 ? true : undefined), 30_000, () => 'the ingress to accept again');
  stop = true;
  await load;
  expect(refused).toBeGreaterThan(0);
  const views = await settle(stack, accepted, 90_000);
  expect([...views.values()].filter((v) => v.status === 'completed').length).toBe(accepted.length);
});
