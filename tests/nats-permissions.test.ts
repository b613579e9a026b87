// One NATS user per role with only the subjects it needs: the same users and permissions in
// native mode (when `tps up` runs its own nats-server) and in compose.
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '#platform/config.ts';
import { generatePasswords } from '#platform/nats/credentials.ts';
import { provision } from '#platform/nats/provision.ts';
import type { NatsUserName } from '#platform/nats/permissions.ts';
import { declareTopology } from '#platform/nats/topology.ts';
import { startNatsServer, type NatsServerHandle } from './helpers/nats-server.ts';
import { postJob } from './helpers/roles.ts';
import { tps } from './helpers/cli.ts';
import { settle, startStack } from './helpers/stack.ts';

const passwords = generatePasswords();
let server: NatsServerHandle;
const open: NatsConnection[] = [];

async function as(user: NatsUserName): Promise<NatsConnection> {
  const nc = await connect({ servers: server.url, user, pass: passwords[user] });
  open.push(nc);
  return nc;
}

beforeAll(async () => {
  server = await startNatsServer({ passwords });
  await provision(await as('operator'), declareTopology(loadConfig({})));
});
afterAll(async () => {
  for (const nc of open) await nc.close();
  await server?.dispose();
});

const refused = /Permissions Violation/;

describe('least privilege', () => {
  it('a worker cannot publish jobs, write chaos or control, or delete streams', async () => {
    const nc = await as('worker-fast');
    await expect(jetstream(nc).publish('jobs.fast.echo', '{}')).rejects.toThrow(refused);
    await expect((await new Kvm(nc).open('tps_chaos')).put('service-a.error_rate', '{}')).rejects.toThrow(refused);
    await expect((await new Kvm(nc).open('tps_control')).put('pool.fast.slots', '100')).rejects.toThrow(refused);
    await expect(nc.request('$JS.API.STREAM.DELETE.JOBS_FAST', '', { timeout: 1_000 })).rejects.toThrow(refused);
    // ...nor touch the other pool's consumer.
    await expect(nc.request('$JS.API.CONSUMER.MSG.NEXT.JOBS_SLOW.workers-slow', '{"batch":1}', { timeout: 1_000 })).rejects.toThrow(refused);
  });

  it('the ingress cannot dead-letter or inject faults; a service cannot publish jobs', async () => {
    const ingress = await as('ingress');
    await expect(jetstream(ingress).publish('dlq.fast.echo', '{}')).rejects.toThrow(refused);
    await expect((await new Kvm(ingress).open('tps_chaos')).put('service-a.latency', '{}')).rejects.toThrow(refused);
    const service = await as('service');
    await expect(jetstream(service).publish('jobs.slow.report', '{}')).rejects.toThrow(refused);
  });

  it('only the operator writes the chaos bucket', async () => {
    const kv = await new Kvm(await as('operator')).open('tps_chaos');
    expect(await kv.put('probe.key', '{}')).toBeGreaterThan(0);
  });
});

describe('native mode with its own nats-server', () => {
  it('runs every role as its own user, and jobs of every kind reach their end', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const stack = await startStack(`nats://127.0.0.1:${port}`);
    try {
      const ids: string[] = [];
      for (const type of ['fast.echo', 'fast.lookup', 'slow.report']) ids.push(String((await postJob(stack.url('ingress'), { type })).json.id));
      const poison = String((await postJob(stack.url('ingress'), { type: 'fast.lookup', payload: { key: 7 } })).json.id);
      const views = await settle(stack, [...ids, poison], 30_000);
      expect(ids.map((id) => views.get(id)?.status)).toEqual(['completed', 'completed', 'completed']);
      expect(views.get(poison)?.status).toBe('dead_lettered');
      // Operator commands find the operator credentials `tps up` left in the state folder.
      const env = { TPS_STATE_DIR: stack.stateDir, NATS_URL: '' };
      const breakers = await tps(['breaker', 'list', '--json'], env);
      expect(breakers.code, breakers.stderr).toBe(0);
      expect(breakers.stdout).toContain('worker-fast->service-a');
      const scale = await tps(['scale', 'fast', '20'], env);
      expect(scale.code, scale.stderr).toBe(0);
      expect(stack.log('nats')).not.toMatch(/Violation/);
      await expect(connect({ servers: `nats://127.0.0.1:${port}` })).rejects.toThrow(/Authorization/i);
    } finally {
      await stack.stop();
    }
  });
});
