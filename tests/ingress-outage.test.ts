// When NATS goes away the ingress says so at once (503, never a hang) and recovers by itself.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { postJob, provisioned, startTestRole, testConfig, type LogSink } from '#devenv/roles.ts';

let server: NatsServerHandle;
let stop: () => Promise<void>;
let base: string;
let sink: LogSink;

beforeAll(async () => {
  server = await startNatsServer();
  const nc = await provisioned(server.url);
  await nc.close();
  const role = await startTestRole('ingress', testConfig(server.url));
  stop = role.stop;
  sink = role.sink;
  base = `http://127.0.0.1:${role.result}`;
});
afterAll(async () => {
  await stop?.();
  await server?.dispose();
});

it('answers 503 BROKER_UNAVAILABLE within 1 s while NATS is down, and accepts again once it is back', async () => {
  expect((await postJob(base, { type: 'fast.echo' })).status).toBe(202);

  await server.stop();
  const started = Date.now();
  const down = await postJob(base, { type: 'fast.echo' });
  expect(Date.now() - started).toBeLessThan(1_000);
  expect(down.status).toBe(503);
  expect(down.json.code).toBe('BROKER_UNAVAILABLE');
  expect(Number(down.headers.get('retry-after'))).toBeGreaterThan(0);
  const ready = await fetch(`${base}/readyz`);
  expect(ready.status).toBe(503);
  // The outage is in the log once, however many jobs it refuses.
  for (let i = 0; i < 5; i++) expect((await postJob(base, { type: 'fast.echo' })).status).toBe(503);
  expect(sink.lines.filter((l) => l.msg === 'rejecting jobs: broker unavailable')).toHaveLength(1);

  await server.start();
  const back = await waitFor(async () => {
    const r = await postJob(base, { type: 'fast.echo' });
    return r.status === 202 ? r : undefined;
  }, 10_000, () => 'the ingress to accept again');
  expect(back.json.status).toBe('accepted');
  expect((await fetch(`${base}/readyz`)).status).toBe(200);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  expect(metrics).toMatch(/tps_jobs_rejected_total\{pool="unknown",reason="broker_unavailable"\} [1-9]/);
});
