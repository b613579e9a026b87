// The peer pipeline of issue 19, measured the way ours is (bench/lib/peer-side.ts): a Fastify
// ingress doing Queue.add, a BullMQ Worker calling the same service-a through opossum, job state
// kept by BullMQ in Redis; each job's end is BullMQ's `completed` event, read by QueueEvents as
// our side reads the job-status writes.
import { fileURLToPath } from 'node:url';
import { QueueEvents } from 'bullmq';
import { openPeerSide, timedEnds, type SideResult } from './peer-side.ts';
import type { PipelineOptions } from './pipeline-run.ts';
import { freePort, startTarget } from './processes.ts';
import { startRedis } from './redis.ts';

export type BullPipelineResult = SideResult;

/** The BullMQ pipeline's processes, started once (warmed up) and measured at saturation as often
 * as asked, so its rounds can alternate with ours. */
export async function openBullPipeline(serviceA: { url: string; pid: number }, opts: PipelineOptions) {
  const redis = await startRedis();
  const [httpPort, readyPort] = [await freePort(), await freePort()];
  const target = (file: string) => fileURLToPath(new URL(`../targets/${file}`, import.meta.url));
  const ingress = await startTarget([target('bullmq-ingress.ts'), String(httpPort), String(redis.port)], {}, `http://127.0.0.1:${httpPort}/readyz`);
  const worker = await startTarget([target('bullmq-pipeline-worker.ts'), String(redis.port), serviceA.url], { READY_PORT: String(readyPort) }, `http://127.0.0.1:${readyPort}/`);
  const events = new QueueEvents('jobs', { connection: { host: '127.0.0.1', port: redis.port } });
  const ends = timedEnds('BullMQ jobs');
  events.on('completed', ({ jobId }) => ends.ended(jobId));
  const close = async () => {
    await events.close();
    await worker.stop();
    await ingress.stop();
    await redis.stop();
  };
  try {
    await events.waitUntilReady();
    const side = await openPeerSide({
      label: 'BullMQ pipeline', broker: 'redis-server', ingressUrl: ingress.url, ends,
      processes: { ingress: ingress.pid, worker: worker.pid, 'service-a': serviceA.pid }, brokerPid: redis.pid,
    }, opts);
    return { saturate: side.saturate, close: async () => { await side.close(); await close(); } };
  } catch (err) {
    await close();
    throw err;
  }
}
