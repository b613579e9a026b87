// The whole stack on a real three-node NATS cluster (issue 19; reliability matrix R9, R8): R3
// streams and buckets, every role given every node. Under load, the host of the node that leads
// the fast pool's stream loses its power: nats-server is killed at once (SIGKILL) and its disk
// keeps only what the kernel had written (a crash disk each, devenv/crash-disk.ts; nats-server's
// fsync is lazy, so the store's last seconds are gone). The streams elect a new leader, the roles
// reconnect, and every accepted job still ends completed or dead-lettered, none worked twice
// after dedupe. The failover window (refusals while the leader moved) is printed, and the node,
// down for 30 s and started again on what its disk kept, catches up with what it missed. Cut off
// by a partition (R10, links of the test's own between the nodes), a node refuses what it is asked
// to store while the majority keeps accepting, and it catches up once the partition heals.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tps } from '#devenv/cli.ts';
import { createCrashDisk, type CrashDisk } from '#devenv/crash-disk.ts';
import { startNatsCluster, waitForCatchUp, type NatsCluster } from '#devenv/nats-cluster.ts';
import { waitFor } from '#devenv/nats-server.ts';
import { postJob, startTestRole, testConfig } from '#devenv/roles.ts';
import { readLedger } from '#loadgen/ledger.ts';
import { startStack, type Stack } from '#devenv/stack.ts';

let cluster: NatsCluster;
let stack: Stack;
const disks = new Map<string, CrashDisk>();
const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-cluster-'));

beforeAll(async () => {
  for (const node of ['n1', 'n2', 'n3']) disks.set(node, createCrashDisk(node));
  cluster = await startNatsCluster(3, { splittable: true, storeOf: (node) => diskOf(node).dir });
  stack = await startStack(cluster.urls, { NATS_STREAM_REPLICAS: '3', LOG_LEVEL: 'warn' });
  // Hosts that have run a while: the start-up (streams, buckets, consumers) is on their disks.
  for (const disk of disks.values()) disk.syncAll();
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  await cluster?.dispose();
  for (const disk of disks.values()) disk.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const kib = (bytes: number) => `${Math.round(bytes / 1024)} KiB`;

function diskOf(node: string): CrashDisk {
  const disk = disks.get(node);
  if (!disk) throw new Error(`no crash disk for node ${node}`);
  return disk;
}

const env = () => ({ NATS_URL: cluster.urls, TPS_STATE_DIR: stack.stateDir, TPS_EXTERNAL_NATS: 'true' });

it('provisions every stream and bucket with three replicas, one on each node', async () => {
  const jsm = await jetstreamManager(stack.nc);
  const infos = [];
  for await (const info of jsm.streams.list()) infos.push(info);
  expect(infos.length).toBeGreaterThan(5);
  for (const info of infos) {
    expect(info.config.num_replicas, info.config.name).toBe(3);
    expect((info.cluster?.replicas ?? []).length, info.config.name).toBe(2);
  }
});

it('loses no accepted job when the host of the node leading the fast queue loses its power under load, and the node catches up when back', async () => {
  const ledger = path.join(dir, 'failover.jsonl');
  const leader = await waitFor(() => cluster.leaderOf('JOBS_FAST'), 10_000, () => 'a leader of JOBS_FAST');
  const load = tps(['load', '--rate', '60', '--duration', '10s', '--url', stack.url('ingress'), '--ledger', ledger, '--json', '-'], env(), { timeoutMs: 90_000 });
  // A few seconds into the load, the leader's host loses its power: the process, and the writes
  // its disk had not yet got.
  const accepted = async () => Number((await fetch(`${stack.url('ingress')}/metrics`).then((r) => r.text())).match(/^tps_jobs_submitted_total\{pool="fast",type="fast\.echo"\} (\d+)/m)?.[1] ?? 0);
  await waitFor(async () => ((await accepted()) > 100 ? true : undefined), 20_000, () => 'the load to start', 100);
  await leader.stop({ hard: true });
  const { usedBefore, usedAfter } = diskOf(leader.name).powerCut();
  const killedAt = Date.now();
  const moved = await waitFor(async () => {
    const now = await cluster.leaderOf('JOBS_FAST');
    return now && now.name !== leader.name ? now : undefined;
  }, 30_000, () => 'JOBS_FAST to elect a new leader', 100);
  const movedAt = Date.now();
  console.log(`JOBS_FAST: leader ${leader.name} lost its power (its disk kept ${kib(usedAfter)} of the ${kib(usedBefore)} its store had written); ${moved.name} leads after ${movedAt - killedAt} ms`);

  const result = await load;
  expect(result.code, result.stderr).toBe(0);
  const summary = JSON.parse(result.stdout) as { accepted_jobs: number; statuses: Record<string, number> };
  // The stack accepts again under the new leader. (How many it accepted in all depends on how long
  // the election took, longer on a loaded machine: a CI run once counted 196 of the 600 offered.)
  const acceptedSince = readLedger(ledger).filter((line) => Date.parse(line.acceptedAt) > movedAt).length;
  console.log(`load during the failover: ${summary.accepted_jobs} accepted, ${acceptedSince} of them after the new leader was seen; answers ${JSON.stringify(summary.statuses)}`);
  expect(acceptedSince).toBeGreaterThan(0);

  const audit = await tps(['audit', ledger, '--wait', '90s', '--json', '--service-c', stack.url('service-c')], env(), { timeoutMs: 120_000 });
  expect(audit.code, audit.stderr + audit.stdout).toBe(0);
  expect(JSON.parse(audit.stdout)).toMatchObject({ lost: 0, inFlight: 0, ok: true });

  // A host down for 30 s (the outage of R9), then back on what its disk kept: the node rejoins
  // and holds the stream's messages again. The wait is the outage's length, not a synchronisation.
  await delay(Math.max(0, 30_000 - (Date.now() - killedAt)));
  await leader.start();
  // No account-info request to make it (checkAPI: false): a cluster re-forming around the node just
  // started may leave one unanswered (tests/nats-cluster-native.test.ts timed out on it once in CI);
  // the catch-up wait takes such moments as "not yet".
  const jsm = await jetstreamManager(stack.nc, { checkAPI: false });
  await waitForCatchUp(jsm, 'JOBS_FAST', leader.name);
}, 240_000);

/** The node the role's NATS connection is on (monitoring's /connz names each connection). */
async function nodeOf(role: string) {
  for (const node of cluster.nodes) {
    const connz = await fetch(`http://127.0.0.1:${node.monitorPort}/connz`).then((r) => r.json() as Promise<{ connections?: Array<{ name?: string }> }>);
    if (connz.connections?.some((c) => c.name?.startsWith(`${role}/`))) return node;
  }
  throw new Error(`no node holds a connection of ${role}`);
}

it('keeps accepting on the majority side of a partition, refuses on the cut-off node, which catches up when it heals', async () => {
  // Cut off a node the stack's ingress is not on, and not the fast queue's leader: the ingress
  // stays with the majority, which keeps its leader (losing the leader is the test above; here
  // its election took most of the load's 8 s in a CI run). A second ingress sees only the cut-off node.
  const ingressNode = await nodeOf('ingress');
  const leader = await waitFor(() => cluster.leaderOf('JOBS_FAST'), 10_000, () => 'a leader of JOBS_FAST');
  const cut = cluster.nodes.find((n) => n !== ingressNode && n !== leader && n.running());
  if (!cut) throw new Error('no running node is free of both the ingress and the leader of JOBS_FAST');
  const minority = await startTestRole('ingress', testConfig(cut.url, { NATS_STREAM_REPLICAS: '3', PUBLISH_TIMEOUT_MS: '1000' }));
  const ledger = path.join(dir, 'partition.jsonl');
  // Made before the cut: the test's own connection may be on the node cut off, which answers
  // nothing about JetStream until it is back. No API check at creation, as above: right after the
  // leader's kill, JetStream may not answer it for a few seconds (a clean-clone CI run timed out here once).
  const jsm = await jetstreamManager(stack.nc, { checkAPI: false });
  try {
    expect((await postJob(`http://127.0.0.1:${minority.result}`, { type: 'fast.echo' })).status).toBe(202);
    cluster.cutOff(cut);
    const cutAt = Date.now();
    const load = await tps(['load', '--rate', '40', '--duration', '8s', '--url', stack.url('ingress'), '--ledger', ledger, '--json', '-'], env(), { timeoutMs: 60_000 });
    expect(load.code, load.stderr).toBe(0);
    const summary = JSON.parse(load.stdout) as { accepted_jobs: number; statuses: Record<string, number> };
    console.log(`partition: ${cut.name} cut off (${leader.name} leads JOBS_FAST, the ingress is on ${ingressNode.name}); the majority's ingress answered ${JSON.stringify(summary.statuses)}`);
    expect(summary.accepted_jobs).toBeGreaterThan(200);
    // The cut-off node has no quorum: it stores nothing, and its ingress says so.
    const refused = await postJob(`http://127.0.0.1:${minority.result}`, { type: 'fast.echo' });
    expect(refused.status).toBe(503);
    expect(refused.json.code).toBe('BROKER_UNAVAILABLE');
    cluster.reconnect(cut);
    await waitForCatchUp(jsm, 'JOBS_FAST', cut.name);
    console.log(`partition: ${cut.name} current again ${Date.now() - cutAt} ms after the cut`);
    const audit = await tps(['audit', ledger, '--wait', '90s', '--json', '--service-c', stack.url('service-c')], env(), { timeoutMs: 120_000 });
    expect(audit.code, audit.stderr + audit.stdout).toBe(0);
    expect(JSON.parse(audit.stdout)).toMatchObject({ lost: 0, inFlight: 0, ok: true });
  } finally {
    cluster.reconnect(cut);
    await minority.stop();
  }
}, 240_000);
