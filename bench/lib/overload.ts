// The parts of the overload benchmark (bench/overload.bench.ts): slow.report jobs posted to the
// ingress as a closed loop of users (each waits for its job to end before the next) or as
// open-loop arrivals at a set rate; every job followed to its end on the status bucket; each
// process's memory sampled; the slow queue's depth read from its stream.
import type { JetStreamManager } from '@nats-io/jetstream';
import { Pool } from 'undici';
import { readFileSync } from 'node:fs';
import type { Stack } from '#devenv/stack.ts';
import { poolDefinitions } from '#platform/pools.ts';
import { jobEnds, watchStatusEnds, type JobEnd } from './job-ends.ts';
import { summarise, type LatencySummary } from './stats.ts';

export const jobType = 'slow.report';
const queue = poolDefinitions.slow.stream;

type Answer = { status: number; ms: number; id?: string };

/** Jobs posted and how each ended: the ingress's answer, then `completed` or `dead_lettered`. */
export function openJobs(stack: Stack) {
  const http = new Pool(stack.url('ingress'), { connections: 256 });
  const ended = new Map<string, JobEnd>();
  const waiting = new Map<string, () => void>();
  const ends = jobEnds((id, end) => {
    ended.set(id, end);
    waiting.get(id)?.();
    waiting.delete(id);
  });
  const sub = watchStatusEnds(stack.nc, ends);
  const post = async (): Promise<Answer> => {
    const t = performance.now();
    const res = await http.request({ path: '/jobs', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: jobType }) });
    const body = (await res.body.json().catch(() => ({}))) as { id?: string };
    const answer: Answer = { status: res.statusCode, ms: performance.now() - t };
    if (res.statusCode !== 202 || !body.id) return answer;
    ends.sent(body.id, t);
    return { ...answer, id: body.id };
  };
  return {
    post,
    /** Resolves once job `id` has ended. */
    ended: (id: string) => (ended.has(id) ? Promise.resolve() : new Promise<void>((resolve) => waiting.set(id, resolve))),
    endOf: (id: string) => ended.get(id),
    /** Jobs that ended within [from, to) (performance.now() times). */
    endedBetween: (from: number, to: number) => [...ended.values()].filter((e) => e.endedAt >= from && e.endedAt < to),
    /** Accepted jobs that have not ended. */
    open: ends.open,
    async close() { sub.unsubscribe(); await http.close(); },
  };
}
export type Jobs = ReturnType<typeof openJobs>;

/** `users` users, each posting a job and waiting for it to end, until `until`; refusals wait 50 ms. */
export async function closedLoop(jobs: Jobs, users: number, until: number): Promise<void> {
  await Promise.all(Array.from({ length: users }, async () => {
    while (performance.now() < until) {
      const a = await jobs.post().catch(() => ({ status: 0, ms: 0 }) as Answer);
      if (a.id) await jobs.ended(a.id);
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }));
}

export type OpenLoopResult = {
  offeredPerSecond: number; acceptedPerSecond: number; shedPerSecond: number;
  statuses: Record<string, number>; shedAnswer: LatencySummary; acceptAnswer: LatencySummary; accepted: string[];
};

/** Arrivals at `rate` a second for `seconds`, on schedule whatever the answers (open model). */
export async function openLoop(jobs: Jobs, rate: number, seconds: number): Promise<OpenLoopResult> {
  const statuses: Record<string, number> = {};
  const [shed, acceptMs, accepted]: [number[], number[], string[]] = [[], [], []];
  const sends: Array<Promise<void>> = [];
  let owed = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    owed += rate / 100;
    for (; owed >= 1; owed--) {
      sends.push(jobs.post().then((a) => {
        statuses[a.status] = (statuses[a.status] ?? 0) + 1;
        if (a.id) { accepted.push(a.id); acceptMs.push(a.ms); } else shed.push(a.ms);
      }, () => { statuses.error = (statuses.error ?? 0) + 1; }));
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await Promise.all(sends);
  const per = (n: number) => Math.round(n / seconds);
  return {
    offeredPerSecond: per(sends.length), acceptedPerSecond: per(accepted.length), shedPerSecond: per(shed.length),
    statuses, shedAnswer: summarise(shed), acceptAnswer: summarise(acceptMs), accepted,
  };
}

/** The slow queue's depth (messages in its stream). */
export const queueDepth = async (jsm: JetStreamManager): Promise<number> => (await jsm.streams.info(queue)).state.messages;

/** Polls the queue's depth every 250 ms until it is at most `depth`; ms taken, or undefined past `timeoutMs`. */
export async function drainedTo(jsm: JetStreamManager, depth: number, timeoutMs: number): Promise<number | undefined> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if ((await queueDepth(jsm)) <= depth) return Math.round(performance.now() - t0);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return undefined;
}

/** The largest resident memory (MB) each process reached while sampling, read every second. */
export function sampleMemory(pids: () => Record<string, number>) {
  const peak: Record<string, number> = {};
  const read = () => {
    for (const [name, pid] of Object.entries(pids())) {
      try {
        const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
        peak[name] = Math.max(peak[name] ?? 0, Math.round(kb / 1024));
      } catch { /* the process is gone or restarting */ }
    }
  };
  read();
  const timer = setInterval(read, 1_000);
  return { stop: () => { clearInterval(timer); read(); return peak; } };
}

/** End-to-end latency of the given accepted jobs that ended, and how many did not. */
export function endToEnd(jobs: Jobs, ids: readonly string[]): LatencySummary & { notEnded: number; deadLettered: number } {
  const ends = ids.map((id) => jobs.endOf(id));
  const done = ends.filter((e): e is JobEnd => e !== undefined);
  return { ...summarise(done.map((e) => e.endedAt - e.sentAt)), notEnded: ids.length - done.length, deadLettered: done.filter((e) => e.state !== 'completed').length };
}
