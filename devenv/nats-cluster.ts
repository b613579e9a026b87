// A real three-node nats-server cluster on loopback for one test file (issue 19, reliability matrix
// R9/R10): one cluster name, routes between every node, each its own JetStream store, free ports.
// Nodes can be killed, stopped and started again on the same ports and store, as a host that
// fails and comes back. A splittable cluster routes each pair of nodes through a link of the
// test's own (tcp-link.ts), so a node can be cut off from the others while its clients still
// reach it: a network partition (R10).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { JetStreamManager } from '@nats-io/jetstream';
import { findNatsServer } from '#platform/nats/server-binary.ts';
import { isTransientNatsError } from '#platform/nats/stream-errors.ts';
import { waitFor } from './nats-server.ts';
import { openTcpLink, type TcpLink } from './tcp-link.ts';

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
  /** Cuts every link between this node and the others (a splittable cluster only). */
  cutOff(node: ClusterNode): void;
  /** Heals them: the routes come back by themselves. */
  reconnect(node: ClusterNode): void;
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

/** With `storeOf`, each node keeps its JetStream store where that says (e.g. a crash disk of its
 * own, crash-disk.ts); otherwise in a temp folder of the cluster's. */
export async function startNatsCluster(size = 3, opts: { splittable?: boolean; storeOf?: (node: string) => string } = {}): Promise<NatsCluster> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'tps-nats-cluster-'));
  const ports = await Promise.all(Array.from({ length: size }, async () => ({ client: await freePort(), cluster: await freePort(), monitor: await freePort() })));
  const links = opts.splittable ? await pairLinks(ports.map((p) => p.cluster)) : [];
  // Each node routes to the others directly, or through the link of that pair. A node advertises
  // a route address nothing listens on when links are used: the others would otherwise learn its
  // real one by gossip and open routes that no link can cut.
  const deadPort = opts.splittable ? await freePort() : undefined;
  const nodes = ports.map((p, i) => {
    const routes = ports.flatMap((q, j) => (j === i ? [] : [`nats://127.0.0.1:${links.find((l) => l.from === i && l.to === j)?.link.port ?? q.cluster}`]));
    const name = `n${i + 1}`;
    return clusterNode(name, p, routes.join(','), opts.storeOf?.(name) ?? path.join(root, name), deadPort);
  });
  try {
    await Promise.all(nodes.map((n) => n.start()));
    // JetStream is usable once the nodes have met and chosen a meta leader.
    await waitFor(async () => {
      const jsz = await fetch(`http://127.0.0.1:${nodes[0]?.monitorPort}/jsz`).then((r) => r.json() as Promise<{ meta_cluster?: { leader?: string; cluster_size?: number } }>, () => undefined);
      return jsz?.meta_cluster?.leader && jsz.meta_cluster.cluster_size === size ? true : undefined;
    }, 30_000, () => 'the cluster to elect a JetStream meta leader', 100);
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop({ hard: true })));
    await Promise.all(links.map((l) => l.link.close()));
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  const linksOf = (node: ClusterNode) => {
    if (!opts.splittable) throw new Error('startNatsCluster(size, { splittable: true }) routes its nodes through links that can be cut');
    const i = nodes.indexOf(node);
    return links.filter((l) => l.from === i || l.to === i).map((l) => l.link);
  };
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
    cutOff(node) { for (const link of linksOf(node)) link.cut(); },
    reconnect(node) { for (const link of linksOf(node)) link.heal(); },
    async dispose() {
      await Promise.all(nodes.map((n) => n.stop({ hard: true })));
      await Promise.all(links.map((l) => l.link.close()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A link for each direction of each pair of nodes: node i's route to node j goes through links[i->j]. */
async function pairLinks(clusterPorts: number[]): Promise<Array<{ from: number; to: number; link: TcpLink }>> {
  const pairs = clusterPorts.flatMap((_, from) => clusterPorts.map((port, to) => ({ from, to, port }))).filter((p) => p.from !== p.to);
  return Promise.all(pairs.map(async ({ from, to, port }) => ({ from, to, link: await openTcpLink(port) })));
}

function clusterNode(name: string, ports: { client: number; cluster: number; monitor: number }, routes: string, storeDir: string, advertisePort?: number): ClusterNode {
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
        ...(advertisePort ? ['--cluster_advertise', `127.0.0.1:${advertisePort}`] : []),
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
    // A node that just rejoined may answer "temporarily unavailable" for a moment: not yet.
    const info = await jsm.streams.info(stream).catch((err: unknown) => {
      if (!isTransientNatsError(err)) throw err;
      last = (err as Error).message;
      return undefined;
    });
    const cluster = info?.cluster;
    if (info) last = JSON.stringify(cluster);
    return cluster?.leader === node || cluster?.replicas?.find((r) => r.name === node)?.current ? true : undefined;
  }, timeoutMs, () => `${node} to catch up with ${stream} (last: ${last})`, 250);
}
