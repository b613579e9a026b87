// The NATS cluster override on the engine (docker-compose.cluster.yml): three nodes, provisioning
// with three copies, and the ingress storing a job on them. Run by tests/docker/run.sh in a
// project of its own after the main stack is down: `up -d nats nats-2 nats-3 provision ingress`
// with COMPOSE_FILE naming both files, as `make compose-env NATS=cluster` has every docker-compose
// command do.
import { waitFor } from '#devenv/nats-server.ts';
import { expect, inStack, urls } from './stack-access.ts';

type Jsz = {
  meta_cluster?: { leader?: string; cluster_size?: number };
  account_details?: Array<{ stream_detail?: Array<{ name: string; cluster?: { leader?: string; replicas?: Array<{ name: string }> } }> }>;
};
type StreamInfo = { messages: number; cluster?: { leader?: string; replicas?: Array<{ name: string; current?: boolean }> } };
/** JOBS_FAST's info from the JetStream API, run with Node in the ingress container (its user may ask). */
const streamInfoScript = `(async () => {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: process.env.NATS_URL.split(','), user: process.env.NATS_USER, pass: process.env.NATS_PASSWORD, inboxPrefix: '_INBOX.ingress' });
  const info = await (await jetstreamManager(nc)).streams.info('JOBS_FAST');
  console.log(JSON.stringify({ messages: info.state.messages, cluster: info.cluster }));
  await nc.close();
})()`;
const jsz = async () => (await (await fetch(`${urls.natsMonitor}/jsz?streams=true`)).json()) as Jsz;
const streams = async () => (await jsz()).account_details?.flatMap((a) => a.stream_detail ?? []) ?? [];

async function main(): Promise<void> {
  const meta = (await jsz()).meta_cluster;
  expect(meta?.cluster_size === 3 && meta.leader, `the nodes should form one cluster of 3 with a JetStream leader: ${JSON.stringify(meta)}`);
  const provisioned = await streams();
  expect(provisioned.length >= 5, `provisioning should have created the streams and buckets, found ${provisioned.map((s) => s.name).join(', ')}`);
  // jsz lists the streams the node answering holds; its cluster part names the leader and the
  // peers other than the node answering (the published monitor port is node 1's).
  const self = ((await (await fetch(`${urls.natsMonitor}/varz`)).json()) as { server_name?: string }).server_name;
  for (const s of provisioned) {
    const holders = [...new Set([self, s.cluster?.leader, ...(s.cluster?.replicas ?? []).map((r) => r.name)])].filter(Boolean).sort();
    expect(holders.join(',') === 'nats-1,nats-2,nats-3', `${s.name} should have a copy on each node, has ${holders.join(', ')} (asking ${self})`);
  }
  console.log(`   ${provisioned.length} streams and buckets, each with a copy on nats-1, nats-2 and nats-3; meta leader ${meta.leader}`);
  const post = await fetch(`${urls.ingress}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'fast.echo' }) });
  expect(post.status === 202, `the ingress should accept a job on the cluster, got ${post.status}: ${await post.text()}`);
  // Asked through the JetStream API from inside the stack (the ingress container, as its user):
  // the stream's leader answers, and only the leader knows whether each copy is current (a
  // follower's monitoring does not: a CI run waited on one in vain).
  const stored = await waitFor(async () => {
    const fast = JSON.parse(await inStack(streamInfoScript)) as StreamInfo;
    return fast.messages >= 1 && fast.cluster?.replicas?.length === 2 && fast.cluster.replicas.every((r) => r.current) ? fast : undefined;
  }, 30_000, () => 'the job in JOBS_FAST with every copy current', 500);
  console.log(`   a job accepted (202) and held in JOBS_FAST by ${stored.cluster?.leader} with current copies on ${stored.cluster?.replicas?.map((r) => r.name).join(' and ')}`);
}

await main();
