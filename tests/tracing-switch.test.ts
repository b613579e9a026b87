// Tracing is switched by the standard OTEL_* variables alone. A role started by `tps run` (bin/tps,
// with the preload) exports spans when an endpoint is set, and with tracing off it does not even
// start the SDK: nothing is exported, whatever endpoint is set.
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { spanKind, startOtlpReceiver, type OtlpReceiver } from '#devenv/otlp-receiver.ts';
import { provisioned } from '#devenv/roles.ts';
import { startRoleProcess } from '#devenv/role-process.ts';

let server: NatsServerHandle;
let nc: NatsConnection;
let receiver: OtlpReceiver;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await provisioned(server.url);
  receiver = await startOtlpReceiver();
}, 30_000);
afterAll(async () => {
  await nc?.close();
  await receiver?.close();
  await server?.dispose();
});

type RunResult = { code: number | null; lines: Array<Record<string, unknown>>; stderr: string };

/** `tps run service-c` with the given OTEL_* variables: one POST /work, then SIGTERM. */
async function runServiceC(otel: Record<string, string>): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  const role = startRoleProcess('service-c', { ...env, NATS_URL: server.url, HTTP_PORT: '0', LOG_LEVEL: 'info', ...otel });
  const { lines, exited } = role;
  const url = await Promise.race([
    waitFor(() => lines.find((l) => l.msg === 'listening')?.url as string | undefined, 20_000, () => `service-c listening (stderr: ${role.stderr()})`),
    exited.then((code) => `exited ${code}`),
  ]);
  if (url.startsWith('http')) {
    const res = await fetch(`${url}/work`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jobId: 'j-1', type: 'slow.report', attempt: 1 }) });
    expect(res.status).toBe(200);
    role.stop();
  }
  return { code: await exited, lines, stderr: role.stderr() };
}

const started = (r: RunResult) => r.lines.find((l) => l.msg === 'service-c started')?.telemetry;

describe('tps run <role>', () => {
  it('traces when an OTLP endpoint is set, and flushes the spans before it exits', async () => {
    const before = receiver.spans.length;
    const run = await runServiceC({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    expect(run.code).toBe(0);
    expect(started(run)).toMatchObject({ preloaded: true, tracing: true, serviceName: 'service-c', endpoint: `${receiver.url}/v1/traces` });
    // The default batch delay is 5 s and the process stopped sooner: only the exit flush sent these.
    const spans = receiver.spans.slice(before);
    expect(spans.find((s) => s.kind === spanKind.server)).toMatchObject({ service: 'service-c', name: 'POST /work' });
  });

  it('does not start the SDK when OTEL_SDK_DISABLED=true, even with an endpoint set: nothing is exported', async () => {
    const requests = receiver.requests;
    const run = await runServiceC({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SDK_DISABLED: 'true', OTEL_BSP_SCHEDULE_DELAY: '10' });
    expect(run.code).toBe(0);
    expect(started(run)).toEqual({ preloaded: true, tracing: false, reason: 'OTEL_SDK_DISABLED=true', serviceName: 'service-c' });
    expect(receiver.requests).toBe(requests);
  });

  it('is off by default (no endpoint) and says why', async () => {
    const run = await runServiceC({});
    expect(run.code).toBe(0);
    expect(started(run)).toMatchObject({ preloaded: true, tracing: false, reason: expect.stringContaining('OTEL_EXPORTER_OTLP_ENDPOINT') });
  });

  it('refuses a bad OTEL_* value with a clear error and exit status 1', async () => {
    const run = await runServiceC({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('OTEL_EXPORTER_OTLP_PROTOCOL="grpc": this build exports OTLP over HTTP: set http/protobuf (the default) or http/json');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
