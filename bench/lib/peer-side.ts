// What the pipeline benchmark's peers (the BullMQ pipeline, the floor pipeline) share with each
// other and with how ours is measured (bench/lib/pipeline-run.ts): the same closed loop of
// POST /jobs at the same concurrency, each job timed from its POST to the end its side reports,
// and the CPU per job of its processes, its broker and the load.
import { Pool } from 'undici';
import { jobEnds } from './job-ends.ts';
import { closedLoop, selfCpuMs, type PipelineOptions } from './pipeline-run.ts';
import { cpuMs } from './processes.ts';
import { summarise, type LatencySummary } from './stats.ts';

/** cpuUsPerJob: its processes' (ingress, worker, service-a); brokerCpuUsPerJob: its broker's;
 * loadCpuUsPerJob: this process's (the load and the watch of the ends). */
export type SideResult = { rate: number; cpuUsPerJob: number; cpuUsPerJobByProcess: Record<string, number>; brokerCpuUsPerJob: number; loadCpuUsPerJob: number } & LatencySummary;

/** Each job timed from its POST to `ended(id)` (which can come before the 202 is read). */
export function timedEnds(what: string) {
  let latencies: number[] = [];
  let last = 0;
  const ends = jobEnds((_id, end) => { latencies.push(end.endedAt - end.sentAt); last = Math.max(last, end.endedAt); });
  return {
    ended: (id: string) => ends.ended(id, 'completed'),
    sent: ends.sent,
    reset: () => { latencies = []; ends.clear(); },
    latencies: () => latencies,
    lastAt: () => last,
    drain: () => ends.drain(60_000, what),
  };
}
type TimedEnds = ReturnType<typeof timedEnds>;

export type PeerSide = {
  /** Its name in the output, its broker's name. */
  label: string; broker: string;
  ingressUrl: string; processes: Record<string, number>; brokerPid: number; ends: TimedEnds;
};

/** Warms the side up (2 000 jobs, as ours) and measures it at saturation as often as asked. */
export async function openPeerSide(side: PeerSide, opts: PipelineOptions) {
  const http = new Pool(side.ingressUrl, { connections: opts.concurrency });
  const post = async () => {
    const t = performance.now();
    const res = await http.request({ path: '/jobs', method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"fast.echo"}' });
    const { id } = (await res.body.json()) as { id?: string };
    if (res.statusCode === 202 && id) side.ends.sent(id, t);
  };
  await closedLoop(2_000, opts.concurrency, post);
  await side.ends.drain();
  return {
    saturate: () => saturate(side, post, opts),
    close: () => http.close(),
  };
}

async function saturate(side: PeerSide, post: () => Promise<void>, opts: PipelineOptions): Promise<SideResult> {
  const cpu = () => Object.fromEntries(Object.entries(side.processes).map(([name, pid]) => [name, cpuMs(pid)]));
  side.ends.reset();
  const [cpuBefore, brokerBefore, loadBefore] = [cpu(), cpuMs(side.brokerPid), selfCpuMs()] as const;
  const started = performance.now();
  await closedLoop(opts.jobs, opts.concurrency, post);
  await side.ends.drain();
  const done = side.ends.latencies();
  const perJob = (ms: number) => Math.round((ms * 1000) / Math.max(1, done.length));
  const cpuAfter = cpu();
  const cpuUsPerJobByProcess = Object.fromEntries(Object.keys(side.processes).map((name) => [name, perJob((cpuAfter[name] ?? 0) - (cpuBefore[name] ?? 0))]));
  const result = {
    rate: Math.round((done.length / (side.ends.lastAt() - started)) * 1000),
    cpuUsPerJob: Object.values(cpuUsPerJobByProcess).reduce((sum, us) => sum + us, 0), cpuUsPerJobByProcess,
    brokerCpuUsPerJob: perJob(cpuMs(side.brokerPid) - brokerBefore), loadCpuUsPerJob: perJob(selfCpuMs() - loadBefore),
    ...summarise(done),
  };
  console.log(`${side.label} 202 -> completed`.padEnd(37) + `${result.rate} jobs/s  p50 ${result.p50Ms} ms   p99 ${result.p99Ms} ms   its CPU ${result.cpuUsPerJob} µs/job`);
  console.log(`${''.padEnd(37)}by process: ${Object.entries(cpuUsPerJobByProcess).map(([name, us]) => `${name} ${us}`).join(', ')}; beside them: ${side.broker} ${result.brokerCpuUsPerJob}, the load ${result.loadCpuUsPerJob} (µs/job)`);
  return result;
}
