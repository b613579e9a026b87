// runRole builds a role from its entry in the role table and closes it one step per resource:
// newest first, HTTP before the role's own resources, NATS last, and a step that fails is logged
// while the rest still run. Against a real nats-server, with a role whose resources the test owns.
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runRole, type RoleDefinition } from '#platform/role-runtime.ts';
import { roleSpec } from '#platform/roles.ts';
import { startNatsServer, type NatsServerHandle } from '#devenv/nats-server.ts';
import { logSink, provisioned, testConfig } from '#devenv/roles.ts';

let server: NatsServerHandle;

// The roles below bring their own connections; the test's is only for provisioning.
beforeAll(async () => {
  server = await startNatsServer();
  await (await provisioned(server.url)).close();
});
afterAll(() => server?.dispose());

/** service-c's entry in the role table with a start function that opens what the test says. */
function probeRole(start: RoleDefinition['start']): RoleDefinition {
  return { ...roleSpec('service-c'), start };
}

it('closes newest first, HTTP before the role\'s resources and NATS after them; a failing close is logged and the rest run', async () => {
  const closed: string[] = [];
  const { sink, logger } = logSink();
  const role = probeRole(async (ctx) => {
    ctx.own('close the first', 'first', (r) => { closed.push(r); });
    ctx.own('close the second', 'second', () => { throw new Error('second would not close'); });
    ctx.own('close the third', 'third', (r) => { closed.push(`${r} (NATS open: ${!ctx.nc.isClosed()})`); });
    return {};
  });
  const { ctx, port } = await runRole(role, testConfig(server.url), { signals: false, logger });
  expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);

  await ctx.lifecycle.shutdown('test done');
  expect(closed).toEqual(['third (NATS open: true)', 'first']);
  const failed = sink.lines.filter((l) => l.msg === 'shutdown step failed');
  expect(failed.map((l) => l.step)).toEqual(['close the second']);
  expect(ctx.nc.isClosed()).toBe(true);
  await expect(fetch(`http://127.0.0.1:${port}/readyz`)).rejects.toThrow();
});

it('a start that fails closes what it had opened, and NATS, before the error comes out', async () => {
  const closed: string[] = [];
  let opened: NatsConnection | undefined;
  const role = probeRole(async (ctx) => {
    opened = ctx.nc;
    ctx.own('close the store', 'store', (r) => { closed.push(r); });
    throw new Error('the role could not start');
  });
  await expect(runRole(role, testConfig(server.url), { signals: false, logger: logSink().logger })).rejects.toThrow('the role could not start');
  expect(closed).toEqual(['store']);
  expect(opened?.isClosed()).toBe(true);
});

it('refuses to start a role whose streams or consumers are missing, naming them', async () => {
  const bare = await startNatsServer();
  try {
    const worker = { ...roleSpec('worker-slow'), start: async () => ({}) };
    await expect(runRole(worker, testConfig(bare.url), { signals: false, logger: logSink().logger }))
      .rejects.toThrow(/missing stream JOBS_SLOW, stream DLQ, stream ADVISORIES, .*consumer JOBS_SLOW\/workers-slow, consumer ADVISORIES\/dlq-mover-slow\. Run `tps provision`/);
  } finally {
    await bare.dispose();
  }
});
