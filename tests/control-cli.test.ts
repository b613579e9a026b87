// The operator levers against a NATS with the topology but no running roles: every command still
// answers clearly (nothing to report, nobody to apply it), and its changes land in tps_control.
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openControlStore } from '#platform/control/store.ts';
import { tps } from '#devenv/cli.ts';
import { startNatsServer, type NatsServerHandle } from '#devenv/nats-server.ts';
import { provisioned } from '#devenv/roles.ts';

let server: NatsServerHandle;
let nc: NatsConnection;
let env: Record<string, string>;
beforeAll(async () => {
  server = await startNatsServer();
  nc = await provisioned(server.url);
  env = { NATS_URL: server.url, HEARTBEAT_MS: '200ms' };
});
afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

it('reports breakers, the autoscaler and the DLQ when nothing runs', async () => {
  const breakers = await tps(['breaker', 'list'], env);
  expect(breakers.code).toBe(0);
  expect(breakers.stdout.match(/automatic +\(no process running it answered\)/g)).toHaveLength(4);
  const status = await tps(['autoscaler', 'status'], env);
  expect(status.stdout).toMatch(/Autoscaler: enabled \(default\)\nProcess: +never ran/);
  expect((await tps(['dlq', 'list'], env)).stdout).toMatch(/The DLQ is empty/);
  expect((await tps(['dlq', 'replay', '--all', '--dry-run'], env)).stdout).toMatch(/No DLQ entries match \(every entry\)/);
});

it('writes each lever to tps_control with who set it, even with no worker to apply it yet', async () => {
  const scaled = await tps(['scale', 'fast', '40'], env);
  expect(scaled.code).toBe(0);
  expect(scaled.stdout).toMatch(/fast pool: 40 slots per worker process\.\nNo worker of the pool is running now; workers start with this value\./);
  await tps(['autoscaler', 'disable'], env);
  await tps(['autoscaler', 'cap', 'slow', '24'], env);
  await tps(['breaker', 'open', 'service-b->service-c'], env);
  const control = await openControlStore(nc);
  expect(await control.slots('fast')).toMatchObject({ slots: 40, by: expect.stringMatching(/^tps \(/), reason: 'manual' });
  expect(await control.autoscalerEnabled()).toMatchObject({ enabled: false });
  expect(await control.cap('slow')).toMatchObject({ max: 24 });
  expect(await control.breakerForce('service-b->service-c')).toMatchObject({ force: 'open' });
  const status = await tps(['autoscaler', 'status', '--json'], env);
  expect(JSON.parse(status.stdout)).toMatchObject({ enabled: false, caps: { slow: 24 } });
  await tps(['breaker', 'close', 'service-b->service-c'], env);
  expect(await control.breakerForce('service-b->service-c')).toMatchObject({ force: 'auto' });
  const usage = await tps(['autoscaler', 'cap', 'slow', '0'], env);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toMatch(/the cap for the slow pool must be a whole number from 1 to 64, or off; got "0"/);
});
