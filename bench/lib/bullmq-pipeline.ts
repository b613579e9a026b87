// The peer pipeline of issue 19, measured the way ours is (bench/lib/pipeline-run.ts): the same
// closed loop of POST /jobs at the same concurrency, each job timed from its POST to its
// completion (BullMQ's `completed` event, read by QueueEvents as our side reads the job-status
// writes), and the CPU of its processes (ingress, worker, and the same service-a) per job.
import { fileURLToPath } from 'node:url';
import { QueueEvents } from 'bullmq';
import { Pool } from 'undici';
import { jobEnds } from './job-ends.ts';
import { closedLoop, selfCpuMs, type PipelineOptions } from './pipeline-run.ts';
import { cpuMs, freePort, startTarget } from './processes.ts';
import { startRedis } from './redis.ts';
import { summarise, type LatencySummary } from './stats.ts';

/** cpuUsPerJob: its ingress, worker and service-a; brokerCpuUsPerJob: redis-server's;
 * loadCpuUsPerJob: this process's (the load and the `completed` events' watch). */
export type BullPipelineResult = { rate: number; cpuUsPerJob: number; cpuUsPerJobByProcess: Record<string, number>; brokerCpuUsPerJob: number; loadCpuUsPerJob: number } & LatencySummary;

/** The BullMQ pipeline's processes, started once (warmed up) and measured at saturation as often
 * as asked, so its rounds can alternate with ours. */
export async function openBullPipeline(serviceA: { url: string; pid: number }, opts: PipelineOptions) {
  const redis = await startRedis();
  const [httpPort, readyPort] = [await freePort(), await freePort()];
  const target = (file: string) => fileURLToPath(new URL(`../targets/${file}`, import.meta.url));
  const ingress = await startTarget([target('bullmq-ingress.ts'), String(httpPort), String(redis.port)], {}, `http://127.0.0.1:${httpPort}/readyz`);
  const worker = await startTarget([target('bullmq-pipeline-worker.ts'), String(redis.port), serviceA.url], { READY_PORT: String(readyPort) }, `http://127.0.0.1:${readyPort}/`);
  const events = new QueueEvents('jobs', { connection: { host: '127.0.0.1', port: redis.port } });
  await events.waitUntilReady();
  const completions = bullCompletions(events);
  const http = new Pool(ingress.url, { connections: opts.concurrency });
  const post = async () => {
    const t = performance.now();
    const res = await http.request({ path: '/jobs', method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"fast.echo"}' });
    const { id } = (await res.body.json()) as { id?: string };
    if (res.statusCode === 202 && id) completions.expect(id, t);
  };
  const processes = { ingress: ingress.pid, worker: worker.pid, 'service-a': serviceA.pid };
  const cpu = () => Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, cpuMs(pid)]));
  const close = async () => {
    await http.close();
    await events.close();
    await worker.stop();
    await ingress.stop();
    await redis.stop();
  };
  try {
    await closedLoop(2_000, opts.concurrency, post); // warm-up, as ours
    await completions.drain();
  } catch (err) {
    await close();
    throw err;
  }
  return {
    async saturate(): Promise<BullPipelineResult> {
      completions.reset();
      const [cpuBefore, brokerBefore, loadBefore] = [cpu(), cpuMs(redis.pid), selfCpuMs()] as const;
      const started = performance.now();
      await closedLoop(opts.jobs, opts.concurrency, post);
      await completions.drain();
      const done = completions.latencies();
      const perJob = (ms: number) => Math.round((ms * 1000) / Math.max(1, done.length));
      const cpuAfter = cpu();
      const cpuUsPerJobByProcess = Object.fromEntries(Object.keys(processes).map((name) => [name, perJob((cpuAfter[name] ?? 0) - (cpuBefore[name] ?? 0))]));
      const result = {
        rate: Math.round((done.length / (completions.lastAt() - started)) * 1000),
        cpuUsPerJob: Object.values(cpuUsPerJobByProcess).reduce((sum, us) => sum + us, 0), cpuUsPerJobByProcess, brokerCpuUsPerJob: perJob(cpuMs(redis.pid) - brokerBefore), loadCpuUsPerJob: perJob(selfCpuMs() - loadBefore),
        ...summarise(done),
      };
      console.log('BullMQ pipeline 202 -> completed'.padEnd(37) + `${result.rate} jobs/s  p50 ${result.p50Ms} ms   p99 ${result.p99Ms} ms   its CPU ${result.cpuUsPerJob} µs/job`);
      console.log(`${''.padEnd(37)}by process: ${Object.entries(cpuUsPerJobByProcess).map(([name, us]) => `${name} ${us}`).join(', ')}; beside them: redis-server ${result.brokerCpuUsPerJob}, the load ${result.loadCpuUsPerJob} (µs/job)`);
      return result;
    },
    close,
  };
}

/** Each job timed from its POST to BullMQ's `completed` event (which can come before the 202). */
function bullCompletions(events: QueueEvents) {
  let latencies: number[] = [];
  let last = 0;
  const ends = jobEnds((_id, end) => { latencies.push(end.endedAt - end.sentAt); last = Math.max(last, end.endedAt); });
  events.on('completed', ({ jobId }) => ends.ended(jobId, 'completed'));
  return {
    expect: ends.sent,
    reset: () => { latencies = []; },
    latencies: () => latencies,
    lastAt: () => last,
    drain: () => ends.drain(60_000, 'BullMQ jobs'),
  };
}
