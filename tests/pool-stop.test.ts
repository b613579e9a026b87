// The pull loop's stop (a worker's SIGTERM, a replica scaled in): jobs a pull request delivers
// after stop() are never started; they go back to the queue and another worker gets them within
// a second or so, not after the consumer's ack_wait. With NATS down, running jobs are not waited for.
import { jetstream, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { poolDefinitions } from '#platform/pools.ts';
import { startPoolLoop, type PoolLoop } from '#workers/pool.ts';
import { brokerState } from '#platform/nats/connect.ts';
import { startNatsServer, type NatsServerHandle } from '#devenv/nats-server.ts';
import { provisioned } from '#devenv/roles.ts';

const def = poolDefinitions.fast;
let server: NatsServerHandle;
let nc: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await provisioned(server.url);
});
afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

it('hands back, at once, the jobs a pull request delivers after stop(), and starts none of them', async () => {
  const js = jetstream(nc);
  for (let i = 0; i < 6; i++) await js.publish('jobs.fast.echo', JSON.stringify({ n: i }));
  const handled: Array<{ seq: number; afterStop: boolean }> = [];
  let loop: PoolLoop | undefined;
  let stopped: Promise<void> | undefined;
  let stopCalled = false;
  let finishFirst: () => void = () => {};
  const firstHeld = new Promise<void>((resolve) => { finishFirst = resolve; });

  loop = startPoolLoop({
    consumer: await js.consumers.get(def.stream, def.consumer),
    // One pull request for all six jobs: the five after the first are delivered to it after stop().
    slots: 6,
    handle: async (msg: JsMsg) => {
      handled.push({ seq: msg.seq, afterStop: stopCalled });
      if (!stopCalled) {
        stopCalled = true;
        stopped = loop?.stop(5_000);
        await firstHeld;
      }
      msg.ack();
    },
    breakerState: () => 'closed',
    onBreakerChange: () => {},
    logger: pino({ level: 'silent' }),
  });

  await expect.poll(() => stopCalled, { timeout: 5_000 }).toBe(true);
  finishFirst();
  await stopped;
  expect(handled).toEqual([{ seq: 1, afterStop: false }]);

  // Another worker gets the other five as their second delivery, long before ack_wait.
  const started = Date.now();
  const batch = await (await js.consumers.get(def.stream, def.consumer)).fetch({ max_messages: 5, expires: 5_000 });
  const redelivered: Array<[number, number]> = [];
  for await (const msg of batch) {
    redelivered.push([msg.seq, msg.info.deliveryCount]);
    msg.ack();
  }
  expect(redelivered).toEqual([[2, 2], [3, 2], [4, 2], [5, 2], [6, 2]]);
  expect(Date.now() - started).toBeLessThan(def.ackWaitMs / 2);
});

it('does not wait for its running jobs while NATS is down: none could be acked, each comes back', async () => {
  // A server of its own, stopped under the loop (a host going down: every container at once).
  const own = await startNatsServer();
  const conn = await provisioned(own.url);
  const broker = brokerState(conn);
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => { release = resolve; });
  let started = false;
  let finished = false;
  try {
    await jetstream(conn).publish('jobs.fast.echo', JSON.stringify({ n: 1 }));
    const loop = startPoolLoop({
      consumer: await jetstream(conn).consumers.get(def.stream, def.consumer),
      slots: 1,
      handle: async () => { started = true; await held; finished = true; },
      breakerState: () => 'closed',
      onBreakerChange: () => {},
      logger: pino({ level: 'silent' }),
      brokerConnected: broker.connected,
      brokerDown: broker.down,
    });
    await expect.poll(() => started, { timeout: 5_000 }).toBe(true);
    await own.stop();
    await expect.poll(() => broker.connected(), { timeout: 10_000 }).toBe(false);
    // A grace period far beyond the test's time: stop() ends because NATS is down, not by it.
    await loop.stop(10 * 60_000);
    expect(finished).toBe(false);
  } finally {
    release();
    await conn.close();
    await own.dispose();
  }
});
