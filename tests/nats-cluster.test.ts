// The whole stack on a real three-node NATS cluster (issue 19; reliability matrix R9): R3 streams
// and buckets, every role given every node. Under load, the node that leads the fast pool's stream
// is killed at once (SIGKILL, a host lost): the streams elect a new leader, the roles reconnect,
// and every accepted job still ends completed or dead-lettered, none worked twice after dedupe.
// The failover window (refusals while the leader moved) is printed, and the node, started again,
// catches up with what it missed.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tps } from '#devenv/cli.ts';
import { startNatsCluster, waitForCatchUp, type NatsCluster } from '#devenv/nats-cluster.ts';
import { waitFor } from '#devenv/nats-server.ts';
import { startStack, type Stack } from '#devenv/stack.ts';

let cluster: NatsCluster;
let stack: Stack;
const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-cluster-'));

beforeAll(async () => {
  cluster = await startNatsCluster(3);
  stack = await startStack(cluster.urls, { NATS_STREAM_REPLICAS: '3', LOG_LEVEL: 'warn' });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  await cluster?.dispose();
});

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

it('loses no accepted job when the node leading the fast queue is killed under load, and the node catches up when back', async () => {
  const ledger = path.join(dir, 'failover.jsonl');
  const leader = await waitFor(() => cluster.leaderOf('JOBS_FAST'), 10_000, () => 'a leader of JOBS_FAST');
  const load = tps(['load', '--rate', '60', '--duration', '10s', '--url', stack.url('ingress'), '--ledger', ledger, '--json', '-'], env(), { timeoutMs: 90_000 });
  // A few seconds into the load, the leader's host is gone.
  const accepted = async () => Number((await fetch(`${stack.url('ingress')}/metrics`).then((r) => r.text())).match(/^tps_jobs_submitted_total\{pool="fast",type="fast\.echo"\} (\d+)/m)?.[1] ?? 0);
  await waitFor(async () => ((await accepted()) > 100 ? true : undefined), 20_000, () => 'the load to start', 100);
  await leader.stop({ hard: true });
  const killedAt = Date.now();
  const moved = await waitFor(async () => {
    const now = await cluster.leaderOf('JOBS_FAST');
    return now && now.name !== leader.name ? now : undefined;
  }, 30_000, () => 'JOBS_FAST to elect a new leader', 100);
  console.log(`JOBS_FAST: leader ${leader.name} killed; ${moved.name} leads after ${Date.now() - killedAt} ms`);

  const result = await load;
  expect(result.code, result.stderr).toBe(0);
  const summary = JSON.parse(result.stdout) as { accepted_jobs: number; statuses: Record<string, number> };
  console.log(`load during the failover: ${summary.accepted_jobs} accepted, answers ${JSON.stringify(summary.statuses)}`);
  expect(summary.accepted_jobs).toBeGreaterThan(200);

  const audit = await tps(['audit', ledger, '--wait', '90s', '--json', '--service-c', stack.url('service-c')], env(), { timeoutMs: 120_000 });
  expect(audit.code, audit.stderr + audit.stdout).toBe(0);
  expect(JSON.parse(audit.stdout)).toMatchObject({ lost: 0, inFlight: 0, ok: true });

  // Back on the same store, the node rejoins and holds the stream's messages again.
  await leader.start();
  const jsm = await jetstreamManager(stack.nc);
  await waitForCatchUp(jsm, 'JOBS_FAST', leader.name);
}, 240_000);
