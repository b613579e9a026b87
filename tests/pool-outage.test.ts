// Every worker of a pool killed with -9 and kept down for 30 s (reliability matrix R3): the backlog
// stays in the stream, the ingress keeps accepting until the queue's bound and then refuses at once,
// and once the workers are back the backlog drains; every 202 ends completed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isAlive } from '#operator/supervisor/process-stamp.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { postJob } from '#devenv/roles.ts';
import { settle, startStack, type Stack } from '#devenv/stack.ts';

let server: NatsServerHandle;
let stack: Stack;
const capacity = 50;

beforeAll(async () => {
  server = await startNatsServer();
  stack = await startStack(server.url, { SLOW_QUEUE_CAPACITY: String(capacity), ACK_WAIT_MS: '3s' });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await server?.dispose();
});

it('kill -9 of the whole slow pool for 30 s: backlog kept, ingress sheds at the bound, drained after the restart (R3)', async () => {
  const pid = stack.supervisor.pidOf('worker-slow') ?? 0;
  process.kill(pid, 'SIGKILL');
  // Kept down: the supervisor must not restart it until we say so.
  await stack.supervisor.pause('worker-slow');
  await waitFor(() => (isAlive(pid) ? undefined : true), 5_000, () => 'the worker to die');

  const accepted: string[] = [];
  const refused: Record<string, number> = {};
  const outageEnds = Date.now() + 30_000;
  while (Date.now() < outageEnds) {
    const r = await postJob(stack.url('ingress'), { type: 'slow.report' });
    if (r.status === 202) accepted.push(String(r.json.id));
    else refused[String(r.json.code)] = (refused[String(r.json.code)] ?? 0) + 1;
    await new Promise((resolve) => setTimeout(resolve, 50)); // ~20 jobs/s, the load of the outage
  }
  expect(accepted.length).toBe(capacity);
  expect(Object.keys(refused)).toEqual(['QUEUE_FULL']);

  const resumed = Date.now();
  await stack.supervisor.resume('worker-slow');
  const views = await settle(stack, accepted, 90_000);
  expect([...views.values()].filter((v) => v.status === 'completed').length).toBe(capacity);
  console.log(`R3: ${capacity} accepted during 30 s without workers (then ${refused.QUEUE_FULL} refused QUEUE_FULL), all completed ${Date.now() - resumed} ms after the restart`);
}, 180_000);
