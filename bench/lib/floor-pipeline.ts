// The floor pipeline: the least a pipeline of our shape on NATS can do per job, to say how far any
// design of that shape could go on this machine. A bare Fastify route that publishes the job with
// our coalescing publisher and its message id (bench/targets/bare-publish.ts), JOBS_FAST on a
// nats-server of its own, and a worker that calls the same service-a and acks
// (bench/targets/floor-worker.ts): no validation, no admission, no job status, no breaker, no
// metrics. Each job's end is the worker's `floor.done` on core NATS. Measured as the other sides
// are (bench/lib/peer-side.ts).
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { startNatsServer } from '#devenv/nats-server.ts';
import { loadConfig } from '#platform/config.ts';
import { provision } from '#platform/nats/provision.ts';
import { declareTopology } from '#platform/nats/topology.ts';
import { openPeerSide, timedEnds } from './peer-side.ts';
import type { PipelineOptions } from './pipeline-run.ts';
import { freePort, startTarget } from './processes.ts';

export async function openFloorPipeline(serviceA: { url: string; pid: number }, opts: PipelineOptions) {
  const nats = await startNatsServer();
  const limits = { FAST_QUEUE_CAPACITY: '1000000', SLOW_QUEUE_CAPACITY: '1000' };
  const nc = await connect({ servers: nats.url, noAsyncTraces: true });
  const stops: Array<() => Promise<unknown>> = [() => nats.dispose(), () => nc.close()];
  const close = async () => { for (const stop of stops.splice(0).reverse()) await stop(); };
  try {
    await provision(nc, declareTopology(loadConfig({ NATS_URL: nats.url, ...limits })));
    const [httpPort, readyPort] = [await freePort(), await freePort()];
    const target = (file: string) => fileURLToPath(new URL(`../targets/${file}`, import.meta.url));
    const ingress = await startTarget([target('bare-publish.ts'), '--coalescing'], { NATS_URL: nats.url, HTTP_PORT: String(httpPort), ...limits }, `http://127.0.0.1:${httpPort}/readyz`);
    stops.push(ingress.stop);
    const worker = await startTarget([target('floor-worker.ts'), nats.url, serviceA.url], { READY_PORT: String(readyPort) }, `http://127.0.0.1:${readyPort}/`);
    stops.push(worker.stop);
    const ends = timedEnds('floor jobs');
    const sub = nc.subscribe('floor.done', { callback: (_err, msg) => ends.ended(msg.string()) });
    stops.push(async () => sub.unsubscribe());
    const side = await openPeerSide({
      label: 'floor pipeline', broker: 'nats-server', ingressUrl: ingress.url, ends,
      processes: { ingress: ingress.pid, worker: worker.pid, 'service-a': serviceA.pid }, brokerPid: nats.pid ?? 0,
    }, opts);
    stops.push(side.close);
    return { saturate: side.saturate, close };
  } catch (err) {
    await close();
    throw err;
  }
}
