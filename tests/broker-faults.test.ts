// The broker failing under load, as the reliability matrix injects it: nats-server killed with -9
// and restarted (R7), down for 30 s, longer than the client library's default reconnect budget
// (R6), and black-holed by the network (R5). Every role notices, recovers by itself, and every job
// that got a 202 ends completed or dead-lettered. The roles reach NATS through a TCP proxy the test
// controls; the test reads job states over its own direct connection.
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openJobStatusStore } from '#platform/job-status.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { postJob } from '#devenv/roles.ts';
import { settle, startStack, type Stack } from '#devenv/stack.ts';
import { startTcpProxy, type TcpProxy } from '#devenv/tcp-proxy.ts';

let server: NatsServerHandle;
let proxy: TcpProxy;
let stack: Stack;
let direct: NatsConnection;
let view: Stack;
const roleNames = ['ingress', 'service-a', 'service-b', 'service-c', 'worker-fast', 'worker-slow', 'autoscaler'] as const;

beforeAll(async () => {
  server = await startNatsServer();
  proxy = await startTcpProxy(server.port);
  stack = await startStack(proxy.url, { ACK_WAIT_MS: '3s', BREAKER_RESET_MS: '2s' });
  direct = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  view = { ...stack, status: await openJobStatusStore(direct) };
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await direct?.close();
  await proxy?.close();
  await server?.dispose();
}, 60_000);

/** Jobs of both pools, one every 20 ms, until stopped; the ids that got a 202. */
function load(): { accepted: string[]; stop: () => Promise<void> } {
  const accepted: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await postJob(stack.url('ingress'), { type: Math.random() < 0.8 ? 'fast.echo' : 'slow.report' }).catch(() => undefined);
      if (r?.status === 202) accepted.push(String(r.json.id));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return { accepted, stop: async () => { running = false; await loop; } };
}

const ready = async (role: (typeof roleNames)[number]) =>
  fetch(`${stack.url(role)}/readyz`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.ok, () => false);
const allReady = async () => (await Promise.all(roleNames.map(ready))).every(Boolean);
const noneReady = async () => !(await Promise.all(roleNames.map(ready))).some(Boolean);

/** settle(), and when jobs stay open, what the job streams and their consumers hold then: a job
 * still in its stream (and where its consumer is) is late, one in no stream was lost. */
async function settleOrExplain(ids: readonly string[], timeoutMs: number) {
  try {
    return await settle(view, ids, timeoutMs);
  } catch (err) {
    const jsm = await jetstreamManager(direct);
    const lines: string[] = [];
    for await (const si of jsm.streams.list()) {
      if (!si.config.name.startsWith('JOBS_')) continue;
      lines.push(`${si.config.name}: ${si.state.messages} messages, seq ${si.state.first_seq}-${si.state.last_seq}`);
      for await (const ci of jsm.consumers.list(si.config.name)) {
        lines.push(`  ${ci.name}: pending ${ci.num_pending}, ack pending ${ci.num_ack_pending}, redelivered ${ci.num_redelivered}, waiting pulls ${ci.num_waiting}, ` +
          `delivered ${ci.delivered.stream_seq}, ack floor ${ci.ack_floor.stream_seq}`);
      }
    }
    throw new Error(`${(err as Error).message}\n${lines.join('\n')}`, { cause: err });
  }
}

async function acceptedMore(accepted: string[], count: number, timeoutMs: number): Promise<number> {
  const from = accepted.length;
  const started = Date.now();
  await waitFor(() => (accepted.length >= from + count ? true : undefined), timeoutMs, () => `${count} more accepted jobs`);
  return Date.now() - started;
}

it('kill -9 of nats-server under load, restart: every 202 ends completed or dead-lettered (R7)', async () => {
  const run = load();
  await acceptedMore(run.accepted, 40, 20_000);
  await server.stop({ hard: true });
  await server.start();
  const backMs = await acceptedMore(run.accepted, 40, 30_000);
  await run.stop();
  const views = await settleOrExplain(run.accepted, 90_000);
  expect([...views.values()].filter((v) => v.status === 'completed').length).toBe(run.accepted.length);
  console.log(`R7: ${run.accepted.length} accepted, 0 lost; accepting again ${backMs} ms after the restart`);
}, 150_000);

it('NATS down 30 s, past the client default reconnect budget: every role reconnects by itself (R6)', async () => {
  const run = load();
  await acceptedMore(run.accepted, 40, 20_000);
  await server.stop();
  await waitFor(async () => (await noneReady()) || undefined, 15_000, () => 'every role to report NATS gone');
  // The outage itself (the injected fault), not a wait for something: 30 s of no broker.
  await new Promise((resolve) => setTimeout(resolve, 30_000));
  await server.start();
  const started = Date.now();
  await waitFor(async () => (await allReady()) || undefined, 30_000, () => 'every role ready again');
  const recoveredMs = Date.now() - started;
  await acceptedMore(run.accepted, 40, 30_000);
  await run.stop();
  await settleOrExplain(run.accepted, 90_000);
  console.log(`R6: every role ready ${recoveredMs} ms after NATS returned; ${run.accepted.length} accepted, 0 lost`);
}, 180_000);

it('a black-holed connection is noticed within 10 s by every role, which recovers once it heals (R5)', async () => {
  const run = load();
  await acceptedMore(run.accepted, 40, 20_000);
  const cut = Date.now();
  proxy.blackhole();
  await waitFor(async () => (await noneReady()) || undefined, 10_000, () => 'every role to notice the dead connection (pings)');
  const noticedMs = Date.now() - cut;
  proxy.heal();
  await waitFor(async () => (await allReady()) || undefined, 30_000, () => 'every role ready again after the heal');
  await acceptedMore(run.accepted, 40, 30_000);
  await run.stop();
  await settleOrExplain(run.accepted, 90_000);
  console.log(`R5: every role noticed the black hole within ${noticedMs} ms; ${run.accepted.length} accepted, 0 lost`);
}, 150_000);
