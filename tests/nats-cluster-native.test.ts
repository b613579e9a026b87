// `make up NATS=cluster`: the supervisor's own three-node NATS cluster (operator/supervisor/
// broker-cluster.ts) with the per-role users, R3 streams and buckets, a node lost with SIGKILL
// while jobs flow: the majority keeps every job moving, and the supervisor starts the node again
// on its store, where it catches up.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitForCatchUp } from '#devenv/nats-cluster.ts';
import { waitFor } from '#devenv/nats-server.ts';
import { settle, startStack, submit, type Stack } from '#devenv/stack.ts';
import { anyFreePort } from '#operator/supervisor/port-free.ts';
import { readState } from '#operator/supervisor/state-file.ts';

let stack: Stack;

beforeAll(async () => {
  // Nothing answers there: the supervisor starts its own cluster, from that port on.
  stack = await startStack(`nats://127.0.0.1:${await anyFreePort()}`, { TPS_NATS: 'cluster', LOG_LEVEL: 'warn' });
}, 120_000);
afterAll(() => stack?.stop());

const pidOf = (node: string) => Number(execFileSync('pgrep', ['-f', path.join(stack.stateDir, 'nats', `${node}.conf`)]).toString().trim().split('\n')[0]);

it('runs three nodes with the per-role users and three copies of every stream', async () => {
  const state = readState(stack.stateDir);
  expect(state?.nats.managed).toBe(true);
  expect(state?.nats.url.split(',')).toHaveLength(3);
  const jsm = await jetstreamManager(stack.nc);
  for await (const info of jsm.streams.list()) {
    expect(info.config.num_replicas, info.config.name).toBe(3);
    expect(info.cluster?.replicas?.length, info.config.name).toBe(2);
  }
  // The routes take only the run's own password, in a file only this user reads.
  const conf = path.join(stack.stateDir, 'nats', 'nats-1.conf');
  expect(statSync(conf).mode & 0o777).toBe(0o600);
  const text = readFileSync(conf, 'utf8');
  expect(text).toMatch(/authorization \{ user: "route", password: "[\w-]{20,}" \}/);
  expect(text).toMatch(/routes: \["nats:\/\/route:[\w-]{20,}@127\.0\.0\.1:\d+", /);
});

it('completes every accepted job when a node is killed, and starts the node again, which catches up', async () => {
  // Made before the kill: making one asks JetStream for the account's info once, which a cluster
  // re-forming around the restarted node may leave unanswered (a CI run timed out on it); the
  // catch-up wait below takes such moments as "not yet".
  const jsm = await jetstreamManager(stack.nc);
  const before = pidOf('nats-2');
  process.kill(before, 'SIGKILL');
  // A publish that meets the election refuses (503, Retry-After) rather than accept unstored:
  // most are accepted, and every one accepted must complete.
  const ids = await submit(stack, 'fast.echo', 40);
  expect(ids.length).toBeGreaterThan(20);
  const views = await settle(stack, ids, 60_000);
  const unfinished = [...views.values()].filter((v) => v.status !== 'completed');
  expect(unfinished, JSON.stringify(unfinished)).toEqual([]);
  const after = await waitFor(() => { try { const pid = pidOf('nats-2'); return pid !== before ? pid : undefined; } catch { return undefined; } }, 30_000, () => 'the supervisor to start nats-2 again', 250);
  expect(after).not.toBe(before);
  await waitForCatchUp(jsm, 'JOBS_FAST', 'nats-2');
}, 120_000);
