// Ingress benchmark: accepted jobs/s and latency of POST /jobs, side by side in one run with a
// bare Fastify route that only publishes to JetStream (with nats.js js.publish, and with the
// ingress's own coalescing publisher); then the cost of refusing at a full queue.
// Goals (issue: foundation): ingress >= 0.9 x the js.publish route; rejections >= 2.5 x accepted.
//   node bench/ingress.bench.ts [--seconds 10] [--connections 100] [--rounds 2]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { provision } from '#platform/nats/provision.ts';
import { declareTopology } from '#platform/nats/topology.ts';
import { cliEntry } from '#platform/paths.ts';
import { loadConfig } from '#platform/config.ts';
import { startNatsServer } from '../tests/helpers/nats-server.ts';
import { formatResult, load, type LoadResult } from './lib/http-load.ts';
import { cpuMs, freePort, startTarget, type Target } from './lib/processes.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '100' }, rounds: { type: 'string', default: '2' } } });
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const rounds = Number(values.rounds);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const body = JSON.stringify({ type: 'fast.echo', payload: { n: 1 } });

const nats = await startNatsServer();
const nc = await connect({ servers: nats.url });
const jsm = await jetstreamManager(nc);
const big = { FAST_QUEUE_CAPACITY: '10000000', SLOW_QUEUE_CAPACITY: '10000000' };
await provision(nc, declareTopology(loadConfig({ NATS_URL: nats.url, ...big })));

const env = { NATS_URL: nats.url, RATE_LIMIT_RPS: '1000000', QUEUE_POLL_MS: '100', ...big };
const [ingressPort, barePort, leanPort, floorPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
const bareScript = new URL('./targets/bare-publish.ts', import.meta.url).pathname;
const ingress = await startTarget([cliEntry, 'run', 'ingress'], { ...env, HTTP_PORT: String(ingressPort) }, `http://127.0.0.1:${ingressPort}/readyz`);
const bare = await startTarget([bareScript], { ...env, HTTP_PORT: String(barePort) }, `http://127.0.0.1:${barePort}/readyz`);
const lean = await startTarget([bareScript, '--coalescing'], { ...env, HTTP_PORT: String(leanPort) }, `http://127.0.0.1:${leanPort}/readyz`);
const floor = await startTarget([bareScript, '--refuse'], { ...env, HTTP_PORT: String(floorPort) }, `http://127.0.0.1:${floorPort}/readyz`);
/** Waits for answers still in flight when the load stopped, then empties the streams. */
const purge = async () => {
  let last = -1;
  for (;;) {
    const now = (await jsm.streams.info('JOBS_FAST')).state.messages;
    if (now === last) break;
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await jsm.streams.purge('JOBS_FAST');
  await jsm.streams.purge('KV_tps_jobs');
};

console.log(`ingress benchmark: ${connections} connections, ${seconds} s per run, ${rounds} rounds, Node ${process.version}`);
const run = (label: string, target: Target) => load(label, { url: `${target.url}/jobs`, body, connections, seconds, cpu: () => cpuMs(target.pid) });
for (const [label, target] of [['warm-up bare', bare], ['warm-up bare coalescing', lean], ['warm-up ingress', ingress]] as const) {
  console.log(formatResult(await run(label, target)));
}
await purge();

const bareRuns: LoadResult[] = [];
const leanRuns: LoadResult[] = [];
const ingressRuns: LoadResult[] = [];
for (let i = 0; i < rounds; i++) {
  for (const [runs, label, target] of [[bareRuns, 'bare route, js.publish', bare], [leanRuns, 'bare route, coalescing publisher', lean], [ingressRuns, 'ingress POST /jobs', ingress]] as const) {
    runs.push(await run(`${label} (${i + 1})`, target));
    console.log(formatResult(runs.at(-1) as LoadResult));
    await purge();
  }
}

// A full queue: the fast stream at capacity, then both streams at capacity.
const small = { FAST_QUEUE_CAPACITY: '50', SLOW_QUEUE_CAPACITY: '50' };
await provision(nc, declareTopology(loadConfig({ NATS_URL: nats.url, ...small })));
const js = jetstream(nc);
const fill = async (subject: string) => {
  for (;;) {
    try { await js.publish(subject, '{}'); } catch { return; }
  }
};
const waitForMetric = async (pattern: RegExp) => {
  for (let i = 0; i < 100; i++) {
    if (pattern.test(await (await fetch(`${ingress.url}/metrics`)).text())) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`ingress never reported ${pattern}`);
};
await fill('jobs.fast.echo');
await waitForMetric(/tps_queue_depth\{pool="fast"\} 50/);
const fastFull = await run('rejected: fast queue full', ingress);
console.log(formatResult(fastFull));
await fill('jobs.slow.report');
await waitForMetric(/tps_queue_depth\{pool="slow"\} 50/);
const allFull = await run('rejected: every queue full', ingress);
console.log(formatResult(allFull));
const refusalFloor = await run('floor: bare Fastify route, constant 503', floor);
console.log(formatResult(refusalFloor));

const baseline = median(bareRuns.map((r) => r.rps));
const leanBaseline = median(leanRuns.map((r) => r.rps));
const accepted = median(ingressRuns.map((r) => r.rps));
const summary = {
  date: new Date().toISOString(),
  node: process.version,
  connections,
  seconds,
  rounds,
  baseline: { rps: baseline, p50Ms: median(bareRuns.map((r) => r.p50Ms)), p99Ms: median(bareRuns.map((r) => r.p99Ms)) },
  coalescingBaseline: { rps: leanBaseline, p50Ms: median(leanRuns.map((r) => r.p50Ms)), p99Ms: median(leanRuns.map((r) => r.p99Ms)) },
  ingress: { rps: accepted, p50Ms: median(ingressRuns.map((r) => r.p50Ms)), p99Ms: median(ingressRuns.map((r) => r.p99Ms)), cpuUsPerRequest: median(ingressRuns.map((r) => r.cpuUsPerRequest ?? 0)) },
  ratioToBaseline: Number((accepted / baseline).toFixed(3)),
  ratioToCoalescingBaseline: Number((accepted / leanBaseline).toFixed(3)),
  rejectFastFull: rejection(fastFull),
  rejectAllFull: rejection(allFull),
  refusalFloor: rejection(refusalFloor),
  runs: [...bareRuns, ...leanRuns, ...ingressRuns, fastFull, allFull, refusalFloor],
};
console.log('');
console.log(`ingress / bare js.publish route: ${summary.ratioToBaseline} (goal >= 0.9)`);
console.log(`ingress / bare route with the same publisher: ${summary.ratioToCoalescingBaseline} (the ingress's own overhead)`);
console.log(`rejections / accepted, by rate: fast full ${summary.rejectFastFull.ratioToAccepted}x, every queue full ${summary.rejectAllFull.ratioToAccepted}x (goal >= 2.5x)`);
console.log(`ingress CPU per accepted / per rejected request: fast full ${summary.rejectFastFull.cpuCheaperBy}x, every queue full ${summary.rejectAllFull.cpuCheaperBy}x cheaper`);
console.log(`the floor (a bare Fastify route answering a constant 503) / accepted: ${summary.refusalFloor.ratioToAccepted}x by rate, ${summary.refusalFloor.cpuCheaperBy}x by CPU; every queue full reaches ${Number((allFull.rps / refusalFloor.rps).toFixed(2))} of the floor`);
const out = new URL('./results/ingress-latest.json', import.meta.url).pathname;
writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
console.log(`written to ${out}`);

await ingress.stop();
await bare.stop();
await lean.stop();
await floor.stop();
await nc.close();
await nats.dispose();

function rejection(r: LoadResult) {
  const acceptedCpu = median(ingressRuns.map((x) => x.cpuUsPerRequest ?? 0));
  return {
    rps: r.rps,
    p99Ms: r.p99Ms,
    cpuUsPerRequest: r.cpuUsPerRequest,
    ratioToAccepted: Number((r.rps / accepted).toFixed(2)),
    cpuCheaperBy: r.cpuUsPerRequest ? Number((acceptedCpu / r.cpuUsPerRequest).toFixed(2)) : undefined,
    non503: total(r) - (r.statusCounts['503'] ?? 0),
  };
}

function total(r: LoadResult): number {
  return Object.values(r.statusCounts).reduce((a, b) => a + b, 0);
}
