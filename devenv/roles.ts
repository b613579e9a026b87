// Runs a role in the test process against a real NATS, on a free port, with a silent logger
// (or one whose lines the test can read).
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig, type Config } from '#platform/config.ts';
import { runRole, type RoleContext } from '#platform/role-runtime.ts';
import type { RoleName } from '#platform/roles.ts';
import { findRole } from '#services/registry.ts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { provision } from '#platform/nats/provision.ts';
import { declareTopology } from '#platform/nats/topology.ts';

export type LogSink = { lines: Array<Record<string, unknown>> };

export function testConfig(natsUrl: string, env: Record<string, string> = {}): Config {
  return loadConfig({ NATS_URL: natsUrl, HTTP_PORT: '0', LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: '5000', ...env });
}

export function logSink(): { sink: LogSink; logger: pino.Logger } {
  const sink: LogSink = { lines: [] };
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) sink.lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { sink, logger: pino({ level: 'info' }, stream) };
}

/** Runs a role of the role table as `tps run` would, with the test's configuration; `result` is
 * the port it listens on. */
export async function startTestRole(service: RoleName, config: Config): Promise<{ ctx: RoleContext; result: number; sink: LogSink; stop: () => Promise<void> }> {
  const role = findRole(service);
  if (!role) throw new Error(`no role ${service}`);
  const { sink, logger } = logSink();
  const { ctx, port } = await runRole(role, config, { signals: false, logger });
  return { ctx, result: port, sink, stop: () => ctx.lifecycle.shutdown('test done') };
}

export async function provisioned(url: string, env: Record<string, string> = {}): Promise<NatsConnection> {
  const nc = await connect({ servers: url });
  await provision(nc, declareTopology(testConfig(url, env)));
  return nc;
}

export async function postJob(base: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${base}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

/** One hop of the service chain as a real HTTP server on a free port; its stop goes on `stops`. */
export async function startChainHop(natsUrl: string, service: 'service-a' | 'service-b' | 'service-c', env: Record<string, string>, stops: Array<() => Promise<void>>): Promise<string> {
  const role = await startTestRole(service, testConfig(natsUrl, env));
  stops.push(role.stop);
  return `http://127.0.0.1:${role.result}`;
}

/** Jobs of one type at about `perSecond` until stopped (refusals and errors ignored): enough calls for a breaker to judge. */
export function feedJobs(base: string, type: string, perSecond: number): () => Promise<void> {
  let running = true;
  const loop = (async () => {
    while (running) {
      const paced = new Promise((resolve) => setTimeout(resolve, 1_000 / perSecond));
      await postJob(base, { type }).catch(() => undefined);
      await paced;
    }
  })();
  return async () => { running = false; await loop; };
}
