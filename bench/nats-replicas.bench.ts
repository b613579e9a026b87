// What three copies cost (issue 19): JetStream publish throughput and ack latency of one stream
// with one copy on one server, with one copy on a three-node cluster, and with three copies on
// that cluster (R3: an ack once a majority stored it). Each run publishes the same messages with
// the same number in flight, with message ids (as the ingress does); runs alternate over rounds,
// so each ratio compares runs that saw the same machine.
//   node bench/nats-replicas.bench.ts [--messages 20000] [--inflight 200] [--rounds 3]
import { mkdirSync, writeFileSync } from 'node:fs';
import { benchArgs } from './lib/args.ts';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNatsCluster } from '#devenv/nats-cluster.ts';
import { startNatsServer } from '#devenv/nats-server.ts';

const args = benchArgs(import.meta.url, { messages: { type: 'string' }, inflight: { type: 'string' }, rounds: { type: 'string' } });
const [messages, inflight, rounds] = [args.whole('messages', 20_000), args.whole('inflight', 200), args.whole('rounds', 3)];
for (const [name, v] of [['--messages', messages], ['--inflight', inflight], ['--rounds', rounds]] as const) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a whole number >= 1 (got ${String(v)})`);
}

type Run = { perSecond: number; p50Ms: number; p99Ms: number };
const quantile = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)] ?? 0;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function publishRun(nc: NatsConnection, stream: string, replicas: number, round: number): Promise<Run> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], num_replicas: replicas, duplicate_window: 120_000_000_000 });
  const js = jetstream(nc);
  const data = new TextEncoder().encode(JSON.stringify({ type: 'fast.echo', payload: { n: 1 } }));
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: inflight }, async () => {
    while (next < messages) {
      const i = next++;
      const t = performance.now();
      await js.publish(`${stream}.job`, data, { msgID: `r${round}-${i}` });
      latencies.push(performance.now() - t);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  await jsm.streams.delete(stream);
  latencies.sort((a, b) => a - b);
  return { perSecond: messages / seconds, p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99) };
}

const single = await startNatsServer();
const cluster = await startNatsCluster(3);
const ncSingle = await connect({ servers: single.url });
const ncCluster = await connect({ servers: cluster.urls.split(',') });
const runs: Record<'r1Single' | 'r1Cluster' | 'r3Cluster', Run[]> = { r1Single: [], r1Cluster: [], r3Cluster: [] };
try {
  for (let round = 0; round < rounds; round++) {
    runs.r1Single.push(await publishRun(ncSingle, `R1S${round}`, 1, round));
    runs.r1Cluster.push(await publishRun(ncCluster, `R1C${round}`, 1, round));
    runs.r3Cluster.push(await publishRun(ncCluster, `R3C${round}`, 3, round));
    console.error(`round ${round + 1}/${rounds}: ${Object.entries(runs).map(([k, v]) => `${k} ${v.at(-1)?.perSecond.toFixed(0)}/s`).join(', ')}`);
  }
} finally {
  await ncSingle.close();
  await ncCluster.close();
  await single.dispose();
  await cluster.dispose();
}

const summary = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, {
  perSecond: Math.round(median(v.map((r) => r.perSecond))), p50Ms: Number(median(v.map((r) => r.p50Ms)).toFixed(2)), p99Ms: Number(median(v.map((r) => r.p99Ms)).toFixed(2)),
}])) as Record<keyof typeof runs, Run>;
const ratios = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, Number(median(v.map((r, i) => r.perSecond / (runs.r1Single[i]?.perSecond ?? 1))).toFixed(2))]));
const result = { at: new Date().toISOString(), messages, inflight, rounds, summary, throughputOverR1Single: ratios };
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/nats-replicas-latest.json', `${JSON.stringify(result, null, 2)}\n`);
console.log(`publish with message ids, ${messages} messages, ${inflight} in flight, median of ${rounds} rounds:`);
for (const [k, s] of Object.entries(summary)) console.log(`  ${k.padEnd(10)} ${String(s.perSecond).padStart(6)} msg/s (x${ratios[k]})  ack p50 ${s.p50Ms} ms  p99 ${s.p99Ms} ms`);
