// The open-model load generator: arrivals leave on a schedule fixed in advance, whatever the
// server does. Latency is measured from each arrival's scheduled time, so a slow server shows as
// high latency (not as a lower rate); at the in-flight cap an arrival is dropped and counted.
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from '#platform/http/undici-pool.ts';
import { mixPicker, type MixEntry } from './mix.ts';
import { arrivalSchedule } from './schedule.ts';
import { LoadTally, statusClass, type Counts, type StatusClass } from './tally.ts';
import type { LatencyStats } from './histogram.ts';

export type AcceptedJob = { id: string; type: string; acceptedAt: string };

export type LoadOptions = {
  url: string;
  rate: number;
  durationMs: number;
  mix: readonly MixEntry[];
  maxJobs?: number;
  concurrencyCap: number;
  onAccepted?: (job: AcceptedJob) => void;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
  /** Ends the schedule early but, unlike `signal`, lets the responses in flight come back (within
   * graceMs), so every job the ingress accepted reaches the ledger. */
  stop?: AbortSignal;
  /** An arrival sent later than this after its scheduled time counts as late. */
  lateAfterMs?: number;
  requestTimeoutMs?: number;
  /** After the last arrival, how long to wait for responses still in flight. */
  graceMs?: number;
  progressEveryMs?: number;
};

const defaults = { lateAfterMs: 10, requestTimeoutMs: 30_000, graceMs: 10_000, progressEveryMs: 1_000 };

export type Progress = { elapsedMs: number; rate: number; window: LatencyStats; counts: Counts };

export type LoadResult = {
  url: string;
  rate: number;
  mix: readonly MixEntry[];
  scheduled: number;
  elapsedMs: number;
  /** Arrivals per second over the time the schedule ran: what was offered to the server. */
  achievedRate: number;
  counts: Counts;
  latency: LatencyStats;
  /** True when the schedule was ended before its last arrival (Ctrl-C, SIGTERM). */
  stoppedEarly: boolean;
  /** True when answers still in flight were cut off: after the grace, or by a hard stop (`signal`). */
  interrupted: boolean;
};

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const opts = { ...defaults, ...options };
  const schedule = arrivalSchedule(opts.rate, opts.durationMs, opts.maxJobs);
  const nextType = mixPicker(opts.mix);
  const tally = new LoadTally();
  const pool = new Pool(opts.url, { connections: opts.concurrencyCap, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: opts.requestTimeoutMs, bodyTimeout: opts.requestTimeoutMs });
  const requests = new Set<Promise<void>>();
  const start = performance.now();
  tally.window.startedAt = start;
  const progress = setInterval(() => {
    const now = performance.now();
    const w = tally.takeWindow(now);
    opts.onProgress?.({ elapsedMs: now - start, rate: w.arrivals / w.seconds, window: w.latency, counts: tally.counts });
  }, opts.progressEveryMs);

  async function send(type: string, scheduledAt: number): Promise<void> {
    let status: StatusClass = 'failed';
    let id: string | undefined;
    try {
      const res = await pool.request({ path: '/jobs', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type }) });
      id = res.statusCode === 202 ? acceptedId(await res.body.json()) : void (await res.body.dump());
      status = statusClass(res.statusCode);
    } catch {
      // No answer (refused, reset, timed out, cut off after the grace): counted as failed.
    }
    tally.answered(status, performance.now() - scheduledAt, id !== undefined);
    if (id) opts.onAccepted?.({ id, type, acceptedAt: new Date().toISOString() });
  }

  function arrive(scheduledAt: number): void {
    const type = nextType();
    if (tally.counts.inFlight >= opts.concurrencyCap) return tally.arrived(false, 0, opts.lateAfterMs);
    tally.arrived(true, performance.now() - scheduledAt, opts.lateAfterMs);
    const request = send(type, scheduledAt);
    requests.add(request);
    void request.finally(() => requests.delete(request));
  }

  let next = 0;
  try {
    while (next < schedule.total && !opts.signal?.aborted && !opts.stop?.aborted) {
      const due = schedule.dueBy(performance.now() - start);
      for (; next < due; next++) arrive(start + schedule.at(next));
      if (next < schedule.total) await sleep(Math.max(0, start + schedule.at(next) - performance.now()));
    }
    const scheduleMs = performance.now() - start;
    const drained = await drain(requests, opts.graceMs, opts.signal);
    if (!drained) await pool.destroy();
    return {
      url: opts.url, rate: opts.rate, mix: opts.mix, scheduled: schedule.total, elapsedMs: performance.now() - start,
      // Over the schedule's own length, or longer when the arrivals fell behind it.
      achievedRate: tally.counts.arrivals / (Math.max(scheduleMs, (next * 1000) / opts.rate, 1) / 1000),
      counts: tally.counts, latency: tally.latency.stats(), stoppedEarly: next < schedule.total, interrupted: !drained || (next < schedule.total && !opts.stop?.aborted),
    };
  } finally {
    clearInterval(progress);
    await pool.close().catch(() => undefined);
  }
}

/** The new job's id from a 202 body; none when the ingress says it is a duplicate. */
function acceptedId(body: unknown): string | undefined {
  const b = body as { id?: unknown; duplicate?: unknown } | null;
  return typeof b?.id === 'string' && b.duplicate !== true ? b.id : undefined;
}

/** Waits for the requests in flight, at most graceMs (or until aborted); true when all answered. */
async function drain(requests: Set<Promise<void>>, graceMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = performance.now() + graceMs;
  while (requests.size > 0 && performance.now() < deadline && !signal?.aborted) {
    await Promise.race([Promise.all(requests), sleep(Math.min(100, Math.max(1, deadline - performance.now())))]);
  }
  return requests.size === 0;
}
