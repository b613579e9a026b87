// R15: a worker process paused (SIGSTOP) for twice the ack_wait while it holds a job, then resumed
// (SIGCONT). JetStream hands the job to the other worker after ack_wait; the resumed worker's
// call has timed out meanwhile (or its answer is read before the deadline fires: see the end), and its late
// failure must be left to the new holder: a nak from it would start a third delivery beside the second. The job completes, its status never goes back,
// nothing is lost. Two slow-pool worker processes with one slot each, so the paused one asks for
// nothing while it holds the job and the other one is the only taker. The new holder's own job
// (8.5 s at service-a) is slower than ack_wait too (R14 in the whole pipeline).
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readState } from '#operator/supervisor/state-file.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { injectFault, metricValue, settle, startStack, submit, type Stack } from '#devenv/stack.ts';

const ackWaitMs = 6_000;
let server: NatsServerHandle;
let stack: Stack;
let paused: number | undefined;

beforeAll(async () => {
  server = await startNatsServer();
  stack = await startStack(server.url, { WORKERS_SLOW: '2', WORKER_SLOTS: '1', ACK_WAIT_MS: `${ackWaitMs}ms`, AUTOSCALER_ENABLED: 'false' });
}, 90_000);
afterAll(async () => {
  if (paused) process.kill(paused, 'SIGCONT');
  await stack?.stop();
  await server?.dispose();
}, 60_000);

type Worker = { name: string; pid: number; url: string };

function slowWorkers(): Worker[] {
  const all = readState(stack.stateDir)?.processes ?? [];
  return all.flatMap((p) => (/^worker-slow(-\d+)?$/.test(p.name) && p.pid && p.url ? [{ name: p.name, pid: p.pid, url: p.url }] : []));
}

const busy = (w: Worker) => metricValue(w.url, /^tps_worker_busy\{pool="slow"\}/);

/** Every status GET /jobs/:id answers, in order, until stopped (sampled every 50 ms). */
function watchStatus(id: string): { seen: string[]; stop(): Promise<void> } {
  const seen: string[] = [];
  let watching = true;
  const loop = (async () => {
    while (watching) {
      const res = await fetch(`${stack.url('ingress')}/jobs/${id}`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
      const status = res?.ok ? String(((await res.json()) as { status?: string }).status) : undefined;
      if (status && seen.at(-1) !== status) seen.push(status);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return { seen, stop: async () => { watching = false; await loop; } };
}

it('a worker paused for 2x ack_wait: the other worker completes the job, the resumed one changes nothing', async () => {
  const workers = slowWorkers();
  expect(workers).toHaveLength(2);
  await injectFault(stack, { target: 'service-a', fault: 'latency', params: { ms: 8_500, jitter: 0 } });
  const [id = ''] = await submit(stack, 'slow.report', 1);
  const watch = watchStatus(id);
  const holder = await waitFor(async () => {
    for (const w of workers) if ((await busy(w)) === 1) return w;
    return undefined;
  }, 10_000, () => 'a worker to take the job');
  const other = workers.find((w) => w !== holder) as Worker;

  process.kill(holder.pid, 'SIGSTOP');
  paused = holder.pid;
  const pausedAt = Date.now();
  await waitFor(async () => ((await busy(other)) === 1 ? true : undefined), ackWaitMs * 2, () => `${other.name} to take the job over`);
  const takenOverMs = Date.now() - pausedAt;
  // The fault itself: the pause lasts twice the ack_wait.
  await new Promise((resolve) => setTimeout(resolve, pausedAt + 2 * ackWaitMs - Date.now()));
  process.kill(holder.pid, 'SIGCONT');
  paused = undefined;

  const views = await settle(stack, [id], 30_000);
  // Every delivery has ended: both workers idle, the queue empty.
  await waitFor(async () => {
    const stream = await (await jetstreamManager(stack.nc)).streams.info('JOBS_SLOW');
    return stream.state.messages === 0 && (await busy(holder)) === 0 && (await busy(other)) === 0 ? true : undefined;
  }, 30_000, () => 'every delivery of the job to end');
  await waitFor(() => (watch.seen.includes('completed') ? true : undefined), 10_000, () => `GET /jobs/${id} to answer completed (seen: ${watch.seen.join(', ')})`);
  await watch.stop();

  const final = await stack.status.read(id);
  const duplicates = await metricValue(stack.url('service-a'), /^tps_service_duplicates_total\{service="service-a"\}/);
  console.info(`R15: taken over ${takenOverMs} ms into the pause; ${final?.attempts} deliveries; statuses ${watch.seen.join(' -> ')}; duplicate calls at service-a: ${duplicates}`);
  expect(views.get(id)?.status).toBe('completed');
  expect(final?.status).toBe('completed');
  // One redelivery, the pause's; none started by the resumed worker.
  expect(final?.attempts).toBe(2);
  expect(watch.seen.slice(watch.seen.indexOf('completed'))).toEqual(['completed']);
  // How the resumed worker's attempt ends depends on what runs first when it wakes: its call's
  // deadline (10 s, passed during the 12 s pause) aborts the call, and the worker leaves the job to
  // its new holder; or service-a's answer, already in the socket (8.5 s), is read first, and the
  // late success only stores `completed` again. Service-a counts a duplicate when both requests
  // reached it. Either way the worker says which, and no nak: no retry, no
  // third delivery. Only the job's own retry counts: a pull left open across the pause (the
  // advisory mover always has one) may fail on resume ("advisory pull failed; retrying"),
  // which is that loop asking again, not a nak.
  const log = stack.log(holder.name);
  const late = [...log.matchAll(/job attempt (failed|succeeded) after its delivery expired/g)].map((m) => m[1]);
  console.info(`R15: the resumed worker's attempt ${late.join(', ')} after its delivery expired`);
  expect(late).toHaveLength(1);
  expect(duplicates).toBeLessThanOrEqual(1);
  if (late[0] === 'succeeded') expect(duplicates).toBe(1);
  expect(log).not.toMatch(/job attempt failed; retrying/);
}, 90_000);
