// One measurement of the running pipeline (ingress -> JOBS_FAST -> worker-fast -> service-a, no-op
// work): the sustained 202 -> completed rate of a closed loop, then the end-to-end latency at a
// steady arrival rate (open model). Used by bench/pipeline.bench.ts for every variant it compares.
import { Pool } from 'undici';
import type { Stack } from '#devenv/stack.ts';
import { jobEnds, watchStatusEnds } from './job-ends.ts';
import { cpuMs } from './processes.ts';
import { summarise, type LatencySummary } from './stats.ts';

export type PipelineOptions = {
  jobs: number; concurrency: number; steadyRate: number; steadySeconds: number;
  /** The broker's process, whose CPU per job is reported beside the roles' (not part of it). */
  brokerPid?: number;
};
export type PipelineResult = {
  /** cpuUsPerJob: CPU time of all the roles (every process but nats-server) per completed job;
   * cpuUsPerJobByRole: the same, role by role (where the time goes); brokerCpuUsPerJob:
   * nats-server's; loadCpuUsPerJob: this process's (the load and the completions' watch). */
  pipeline: { rate: number; cpuUsPerJob: number; cpuUsPerJobByRole: Record<string, number>; brokerCpuUsPerJob: number; loadCpuUsPerJob: number } & LatencySummary;
  steady: { targetRate: number; achievedRate: number; endToEnd: LatencySummary; http: LatencySummary; statuses: Record<string, number> };
};

/** Runs `send` `total` times with at most `window` in flight. */
export async function closedLoop(total: number, window: number, send: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: window }, async () => {
    while (next < total) await send(next++);
  }));
}

export async function measurePipeline(stack: Stack, opts: PipelineOptions, label = 'pipeline'): Promise<PipelineResult> {
  const load = await openPipelineLoad(stack, opts);
  try {
    return { pipeline: await load.saturate(label), steady: await load.steady(label) };
  } finally {
    await load.close();
  }
}

/** The pipeline's load, opened once (warmed up) and measured as often as asked: at saturation
 * (rounds that alternate with a peer's), then at the steady rate. */
export async function openPipelineLoad(stack: Stack, opts: PipelineOptions) {
  const completions = trackCompletions(stack);
  const http = new Pool(stack.url('ingress'), { connections: opts.concurrency });
  const post = async () => {
    const sentAt = performance.now();
    const res = await http.request({ path: '/jobs', method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"fast.echo"}' });
    const body = (await res.body.json()) as { id?: string };
    if (res.statusCode === 202 && body.id) completions.expect(body.id, sentAt);
    return { status: res.statusCode, ms: performance.now() - sentAt };
  };
  const close = async () => { await http.close(); completions.stop(); };
  try {
    await closedLoop(2_000, opts.concurrency, post); // warm-up
    await completions.drain(30_000);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    /** The sustained 202 -> completed rate of a closed loop, and every role's CPU per job. */
    async saturate(label: string): Promise<PipelineResult['pipeline']> {
      completions.reset();
      const cpuBefore = processCpuMs(stack);
      const [brokerBefore, loadBefore] = [brokerCpuMs(opts), selfCpuMs()];
      const started = performance.now();
      await closedLoop(opts.jobs, opts.concurrency, post);
      await completions.drain(60_000);
      const rate = Math.round((completions.count() / (completions.lastAt() - started)) * 1000);
      const cpuAfter = processCpuMs(stack);
      const perJob = (ms: number) => Math.round((ms * 1000) / Math.max(1, completions.count()));
      const cpuUsPerJobByRole = Object.fromEntries(Object.entries(cpuAfter).map(([name, ms]) => [name, perJob(ms - (cpuBefore[name] ?? 0))]));
      const cpuUsPerJob = Object.entries(cpuUsPerJobByRole).filter(([name]) => name !== 'nats').reduce((sum, [, us]) => sum + us, 0);
      const brokerCpuUsPerJob = perJob(brokerCpuMs(opts) - brokerBefore);
      const loadCpuUsPerJob = perJob(selfCpuMs() - loadBefore);
      const pipeline = { rate, cpuUsPerJob, cpuUsPerJobByRole, brokerCpuUsPerJob, loadCpuUsPerJob, ...summarise(completions.latencies()) };
      console.log(`${label} 202 -> completed`.padEnd(37) + `${pipeline.rate} jobs/s  p50 ${pipeline.p50Ms} ms   p99 ${pipeline.p99Ms} ms   roles' CPU ${cpuUsPerJob} µs/job`);
      console.log(`${''.padEnd(37)}by process: ${Object.entries(cpuUsPerJobByRole).sort((a, b) => b[1] - a[1]).map(([name, us]) => `${name} ${us}`).join(', ')} (µs/job)`);
      console.log(`${''.padEnd(37)}beside them: nats-server ${brokerCpuUsPerJob}, the load ${loadCpuUsPerJob} (µs/job)`);
      return pipeline;
    },
    /** The end-to-end latency at the steady arrival rate (open model). */
    async steady(label: string): Promise<PipelineResult['steady']> {
      completions.reset();
      const steady = await steadyLoad(post, opts);
      await completions.drain(60_000);
      const result = { ...steady, endToEnd: summarise(completions.latencies()) };
      console.log(`${label} steady ${opts.steadyRate} jobs/s for ${opts.steadySeconds} s: end to end p50 ${result.endToEnd.p50Ms} ms  p99 ${result.endToEnd.p99Ms} ms (goal < 100 ms); POST p99 ${result.http.p99Ms} ms; ${JSON.stringify(result.statuses)}`);
      return result;
    },
    close,
  };
}

/** CPU time so far of every process the stack's supervisor runs, nats-server included, by name. */
function processCpuMs(stack: Stack): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of stack.supervisor.processNames()) {
    const pid = stack.supervisor.pidOf(name);
    if (pid) out[name] = cpuMs(pid);
  }
  return out;
}

/** The broker's CPU time so far (0 when the caller did not say which process it is). */
const brokerCpuMs = (opts: Pick<PipelineOptions, 'brokerPid'>): number => (opts.brokerPid ? cpuMs(opts.brokerPid) : 0);

/** This process's CPU time so far: the load generator's and the completions' watch. */
export function selfCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Arrivals on schedule (open model), not when the last one answered. */
async function steadyLoad(post: () => Promise<{ status: number; ms: number }>, opts: PipelineOptions) {
  const httpLatencies: number[] = [];
  const statuses: Record<string, number> = {};
  const sends: Array<Promise<void>> = [];
  const perTick = opts.steadyRate / 100;
  let owed = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < opts.steadySeconds * 1000) {
    owed += perTick;
    for (; owed >= 1; owed--) sends.push(post().then((r) => { httpLatencies.push(r.ms); statuses[r.status] = (statuses[r.status] ?? 0) + 1; }, () => { statuses.error = (statuses.error ?? 0) + 1; }));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await Promise.all(sends);
  return { targetRate: opts.steadyRate, achievedRate: Math.round(sends.length / opts.steadySeconds), http: summarise(httpLatencies), statuses };
}

/** Times each tracked job from its POST to its `completed` write (dead-lettered ones are counted). */
function trackCompletions(s: Stack) {
  let latencies: number[] = [];
  let [last, deadLettered] = [0, 0];
  const ends = jobEnds((_id, end) => {
    if (end.state !== 'completed') return void deadLettered++;
    last = Math.max(last, end.endedAt);
    latencies.push(end.endedAt - end.sentAt);
  });
  const sub = watchStatusEnds(s.nc, ends);
  return {
    expect: ends.sent,
    count: () => latencies.length,
    latencies: () => latencies,
    lastAt: () => last,
    reset: () => { latencies = []; deadLettered = 0; ends.clear(); },
    async drain(timeoutMs: number) {
      await ends.drain(timeoutMs);
      if (deadLettered > 0) console.log(`warning: ${deadLettered} jobs were dead-lettered`);
    },
    stop: () => sub.unsubscribe(),
  };
}
