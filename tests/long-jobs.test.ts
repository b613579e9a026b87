// R14: a job slower than ack_wait is worked once. The consumer's ack_wait is 1 s (as provisioned);
// the worker runs with its defaults (no ACK_WAIT_MS, so its own idea of ack_wait is the pool's
// 10 s); a latency fault makes service-a take 1.4 s per job. The worker must hold the job with
// heartbeats at the ack_wait JetStream applies: no redelivery, one call downstream. Then the same
// with the worker starved of CPU (reliability matrix O5, the `cpu_burn` fault at 95 %: its event
// loop runs 5 ms in every 100): the heartbeats, every third of ack_wait, still get through. (A loop
// blocked for longer than ack_wait is a paused worker: tests/paused-worker.test.ts, R15.) Every role
// connects as its own NATS user, as in production; the roles run in this test's process.
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openChaosStore } from '#platform/chaos/store.ts';
import { openJobStatusStore, type JobStatusStore } from '#platform/job-status.ts';
import { encodeJob, newJobId } from '#platform/job-message.ts';
import { generatePasswords } from '#platform/nats/credentials.ts';
import { provision } from '#platform/nats/provision.ts';
import { declareTopology } from '#platform/nats/topology.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { startTestRole, testConfig } from '#devenv/roles.ts';
import { metricValue } from '#devenv/stack.ts';

const passwords = generatePasswords();
const ackWaitMs = 1_000;
const serviceLatencyMs = 1_400;
let server: NatsServerHandle;
let operator: NatsConnection;
let jsm: JetStreamManager;
let status: JobStatusStore;
const stops: Array<() => Promise<void>> = [];
let serviceA: string;
let worker: string;

beforeAll(async () => {
  server = await startNatsServer({ passwords });
  operator = await connect({ servers: server.url, user: 'operator', pass: passwords.operator });
  await provision(operator, declareTopology(testConfig(server.url, { ACK_WAIT_MS: `${ackWaitMs}ms` })));
  jsm = await jetstreamManager(operator);
  status = await openJobStatusStore(operator);
  const as = (user: 'service' | 'worker-fast', env: Record<string, string> = {}) => testConfig(server.url, { NATS_USER: user, NATS_PASSWORD: passwords[user], ...env });
  const a = await startTestRole('service-a', as('service'));
  stops.push(a.stop);
  serviceA = `http://127.0.0.1:${a.result}`;
  const w = await startTestRole('worker-fast', as('worker-fast', { SERVICE_A_URL: serviceA }));
  stops.push(w.stop);
  worker = `http://127.0.0.1:${w.result}`;
  await (await openChaosStore(operator)).set({ target: 'service-a', fault: 'latency', params: { ms: serviceLatencyMs, jitter: 0 } }, 'test');
  const active = /^tps_chaos_fault_active\{target="service-a",fault="latency"\} 1\b/;
  await waitFor(async () => ((await metricValue(serviceA, active)) === 1 ? true : undefined), 10_000, () => 'service-a to apply the latency fault');
}, 60_000);
afterAll(async () => {
  while (stops.length) await stops.pop()?.();
  status?.close();
  await operator?.close();
  await server?.dispose();
});

async function workedOnce(label: string): Promise<void> {
  const effects = () => Promise.all([
    metricValue(serviceA, /^tps_service_effects_total\{service="service-a"\}/),
    metricValue(serviceA, /^tps_service_duplicates_total\{service="service-a"\}/),
  ]);
  const [callsBefore, duplicatesBefore] = await effects();
  const id = newJobId();
  const started = Date.now();
  await jetstream(operator).publish('jobs.fast.echo', encodeJob({ id, type: 'fast.echo', pool: 'fast', acceptedAt: new Date().toISOString() }), { msgID: id });
  await waitFor(async () => ((await status.read(id))?.status === 'completed' ? true : undefined), 15_000, () => 'the job to complete');
  const tookMs = Date.now() - started;
  // Whatever JetStream delivered has finished: nothing waits, nothing is held, no slot is busy.
  await waitFor(async () => {
    const ci = await jsm.consumers.info('JOBS_FAST', 'workers-fast');
    const busy = await metricValue(worker, /^tps_worker_busy\{pool="fast"\}/);
    return ci.num_pending + ci.num_ack_pending === 0 && busy === 0 ? true : undefined;
  }, 15_000, () => 'the worker to finish every delivery');

  const attempts = (await status.read(id))?.attempts;
  const [calls, duplicates] = (await effects()).map((n, i) => n - [callsBefore, duplicatesBefore][i]!);
  console.info(`${label}: a ${tookMs} ms job under a ${ackWaitMs} ms ack_wait: ${attempts} attempt(s), ${calls} call(s) to service-a, ${duplicates} duplicate(s)`);
  expect(tookMs).toBeGreaterThan(ackWaitMs);
  expect({ attempts, calls, duplicates }).toEqual({ attempts: 1, calls: 1, duplicates: 0 });
}

it('works a job slower than ack_wait once: no redelivery, one call to service-a', () => workedOnce('R14'), 40_000);

it('works it once too with the worker starved of CPU by cpu_burn at 95 % (O5)', async () => {
  const chaos = await openChaosStore(operator);
  const burning = /^tps_chaos_fault_active\{target="worker-fast",fault="cpu_burn"\} 1\b/;
  await chaos.set({ target: 'worker-fast', fault: 'cpu_burn', params: { ratio: 0.95 } }, 'test');
  try {
    await waitFor(async () => ((await metricValue(worker, burning)) === 1 ? true : undefined), 10_000, () => 'the worker to burn');
    await workedOnce('O5');
  } finally {
    await chaos.clear('worker-fast', 'cpu_burn', 'test');
  }
}, 40_000);
