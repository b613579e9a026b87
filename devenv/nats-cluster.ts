// A real three-node nats-server cluster on loopback for one test file (issue 19, reliability matrix
// R9/R10): one cluster name, routes between every node, each its own JetStream store, free ports.
// Nodes can be killed, stopped and started again on the same ports and store, as a host that
// fails and comes back.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { JetStreamManager } from '@nats-io/jetstream';
import { findNatsServer } from '#platform/nats/server-binary.ts';
import { waitFor } from './nats-server.ts';

export type ClusterNode = {
  name: string; port: number; monitorPort: number; url: string;
  /** Stops the node (SIGKILL with hard: a host lost at once) and waits for it to exit. */
  stop(opts?: { hard?: boolean }): Promise<void>;
  /** Starts it again on the same ports and store. */
  start(): Promise<void>;
  running(): boolean;
};

export type NatsCluster = {
  nodes: ClusterNode[];
  /** Every node's client URL, comma-separated, as NATS_URL takes them. */
  urls: string;
  /** The node whose monitoring says it leads this stream now (undefined while none does). */
  leaderOf(stream: string): Promise<ClusterNode | undefined>;
  dispose(): Promise<void>;
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const answers = (port: number) => new Promise<boolean>((resolve) => {
  const socket = net.connect(port, '127.0.0.1');
  socket.once('connect', () => { socket.destroy(); resolve(true); });
  socket.once('error', () => resolve(false));
});

type JszStream = { name: string; cluster?: { leader?: string } };
type Jsz = { account_details?: Array<{ stream_detail?: JszStream[] }> };

export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'tps-nats-cluster-'));
  const ports = await Promise.all(Array.from({ length: size }, async () => ({ client: await freePort(), cluster: await freePort(), monitor: await freePort() })));
  const routes = ports.map((p) => `nats://127.0.0.1:${p.cluster}`).join(',');
  const nodes = ports.map((p, i) => clusterNode(`n${i + 1}`, p, routes, path.join(root, `n${i + 1}`)));
  try {
    await Promise.all(nodes.map((n) => n.start()));
    // JetStream is usable once the nodes have met and chosen a meta leader.
    await waitFor(async () => {
      const jsz = await fetch(`http://127.0.0.1:${nodes[0]?.monitorPort}/jsz`).then((r) => r.json() as Promise<{ meta_cluster?: { leader?: string; cluster_size?: number } }>, () => undefined);
      return jsz?.meta_cluster?.leader && jsz.meta_cluster.cluster_size === size ? true : undefined;
    }, 30_000, () => 'the cluster to elect a JetStream meta leader', 100);
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop({ hard: true })));
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  return {
    nodes,
    urls: nodes.map((n) => n.url).join(','),
    async leaderOf(stream) {
      for (const node of nodes.filter((n) => n.running())) {
        const jsz = await fetch(`http://127.0.0.1:${node.monitorPort}/jsz?streams=true`).then((r) => r.json() as Promise<Jsz>, () => undefined);
        const found = jsz?.account_details?.flatMap((a) => a.stream_detail ?? []).find((s) => s.name === stream);
        const leader = found?.cluster?.leader;
        if (leader) return nodes.find((n) => n.name === leader);
      }
      return undefined;
    },
    async dispose() {
      await Promise.all(nodes.map((n) => n.stop({ hard: true })));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function clusterNode(name: string, ports: { client: number; cluster: number; monitor: number }, routes: string, storeDir: string): ClusterNode {
  let child: ChildProcess | undefined;
  let log = '';
  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  return {
    name, port: ports.client, monitorPort: ports.monitor, url: `nats://127.0.0.1:${ports.client}`,
    running: alive,
    async start() {
      log = '';
      child = spawn(findNatsServer(), [
        '-js', '-sd', storeDir, '-n', name, '-a', '127.0.0.1', '-p', String(ports.client), '-m', String(ports.monitor),
        '--cluster_name', 'tps', '--cluster', `nats://127.0.0.1:${ports.cluster}`, '--routes', routes,
      ], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000); });
      await waitFor(async () => ((await answers(ports.client)) ? true : undefined), 10_000, () => `nats-server ${name} to accept: ${log}`, 50);
    },
    async stop({ hard = false } = {}) {
      const proc = child;
      if (!proc || !alive()) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill(hard ? 'SIGKILL' : 'SIGTERM');
      await exited;
    },
  };
}

/**
 * Waits until `node` holds every message of `stream` again after a restart. A node that came back
 * may also win a later election: the leader is not listed among the replicas, and a leader is
 * current by definition, so either counts.
 */
export async function waitForCatchUp(jsm: JetStreamManager, stream: string, node: string, timeoutMs = 60_000): Promise<void> {
  let last = 'no answer yet';
  await waitFor(async () => {
    const cluster = (await jsm.streams.info(stream)).cluster;
    last = JSON.stringify(cluster);
    return cluster?.leader === node || cluster?.replicas?.find((r) => r.name === node)?.current ? true : undefined;
  }, timeoutMs, () => `${node} to catch up with ${stream} (last: ${last})`, 250);
}
