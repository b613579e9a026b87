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
import { inboxPrefix, natsUserNames, type NatsUserName } from '#platform/nats/permissions.ts';
import { declareTopology } from '#platform/nats/topology.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { postJob } from '#devenv/roles.ts';
import { tps } from '#devenv/cli.ts';
import { settle, startStack } from '#devenv/stack.ts';

const passwords = generatePasswords();
let server: NatsServerHandle;
const open: NatsConnection[] = [];

/** Connects as the roles do (platform/nats/connect.ts): the user's password and inbox prefix. */
async function as(user: NatsUserName): Promise<NatsConnection> {
  const nc = await connect({ servers: server.url, user, pass: passwords[user], inboxPrefix: inboxPrefix(user) });
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
    // ...nor watch every role's JetStream API requests.
    expect(await maySubscribe(nc, '$JS.API.>')).toBe(false);
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

  it('only the ingress claims and reads Idempotency-Keys; no other role touches the store', async () => {
    const kv = await new Kvm(await as('ingress')).open('tps_idempotency');
    expect(await kv.create('probe', '{}')).toBeGreaterThan(0);
    expect((await kv.get('probe'))?.string()).toBe('{}');
    for (const user of ['worker-fast', 'worker-slow', 'service', 'autoscaler'] as const) {
      const nc = await as(user);
      await expect(jetstream(nc).publish('$KV.tps_idempotency.probe', '{}'), user).rejects.toThrow(refused);
      await expect(nc.request('$JS.API.DIRECT.GET.KV_tps_idempotency.$KV.tps_idempotency.probe', '', { timeout: 1_000 }), user).rejects.toThrow(refused);
    }
  });
});

/** A refused SUB is answered with -ERR before the PONG of the flush that follows it. */
async function maySubscribe(nc: NatsConnection, subject: string): Promise<boolean> {
  let refused = false;
  nc.subscribe(subject, { callback: (err) => { if (err) refused = true; } });
  await nc.flush();
  return !refused;
}

/** The subjects a connection was refused to publish to (the server's -ERR for each). */
function publishViolations(nc: NatsConnection): string[] {
  const subjects: string[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      const match = s.type === 'error' ? /Permissions Violation for Publish to "([^"]+)"/.exec(String(s.error)) : null;
      if (match?.[1]) subjects.push(match[1]);
    }
  })();
  return subjects;
}

describe('inboxes: replies reach only the role that asked', () => {
  it('no role reads another role\'s inbox or publishes into it (a forged PubAck never arrives)', async () => {
    const victims = new Map<NatsUserName, { nc: NatsConnection; received: number }>();
    for (const user of natsUserNames) {
      const victim = { nc: await as(user), received: 0 };
      victim.nc.subscribe(`${inboxPrefix(user)}.>`, { callback: (err) => { if (!err) victim.received += 1; } });
      await victim.nc.flush();
      victims.set(user, victim);
    }
    const allowed: string[] = [];
    let probes = 0;
    for (const attacker of natsUserNames.filter((u) => u !== 'operator')) {
      const nc = await as(attacker);
      const refusedPublishes = publishViolations(nc);
      probes += 1;
      if (await maySubscribe(nc, '_INBOX.>')) allowed.push(`${attacker} subscribes to every inbox`);
      for (const [user, victim] of [...victims].filter(([u]) => u !== attacker)) {
        probes += 2;
        if (await maySubscribe(nc, `${inboxPrefix(user)}.>`)) allowed.push(`${attacker} subscribes to ${user}'s inbox`);
        // What a PubAck looks like: the ingress would answer 202 for a job no stream holds.
        const forged = `${inboxPrefix(user)}.forged.${attacker}`;
        const before = victim.received;
        nc.publish(forged, JSON.stringify({ stream: 'JOBS_FAST', seq: 1 }));
        // The server queues a delivery to the victim before it answers the attacker's PING, and the
        // victim's own PONG after that delivery: after both flushes a delivered message is counted.
        await nc.flush();
        await victim.nc.flush();
        if (victim.received > before) allowed.push(`${attacker} publishes into ${user}'s inbox`);
        else await waitFor(() => refusedPublishes.includes(forged) || undefined, 5_000, () => `the refusal of ${attacker}'s publish to ${forged}`);
      }
    }
    // Every user but the operator attacks: all inboxes once, and each other user's twice.
    const attackers = natsUserNames.length - 1;
    expect({ probes, allowed }).toEqual({ probes: attackers * (1 + 2 * (natsUserNames.length - 1)), allowed: [] });
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
