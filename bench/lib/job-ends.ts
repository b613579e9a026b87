// Pairs each job's POST with the moment it ended, for the benchmarks that time jobs end to end. A
// job can end before its 202 has been read (the worker is that fast), so an end seen first is kept
// until the answer names its id. The ends come from the status bucket (watchStatusEnds) or, for
// the BullMQ pipeline, from BullMQ's own events.
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { jobIdOfStatusSubject, terminalStatusSubjects } from '#platform/job-status.ts';

export type JobEnd = { sentAt: number; endedAt: number; state: 'completed' | 'dead_lettered' };

export function jobEnds(onEnd: (id: string, end: JobEnd) => void) {
  const sentAt = new Map<string, number>();
  const early = new Map<string, { at: number; state: JobEnd['state'] }>();
  return {
    /** Job `id` ended (at `at`, performance.now() time). */
    ended(id: string, state: JobEnd['state'], at = performance.now()): void {
      const t = sentAt.get(id);
      if (t === undefined) return void early.set(id, { at, state });
      sentAt.delete(id);
      onEnd(id, { sentAt: t, endedAt: at, state });
    },
    /** The 202 named job `id`, posted at `t`. */
    sent(id: string, t: number): void {
      const seen = early.get(id);
      if (!seen) return void sentAt.set(id, t);
      early.delete(id);
      onEnd(id, { sentAt: t, endedAt: seen.at, state: seen.state });
    },
    /** Accepted jobs not ended yet. */
    open: () => sentAt.size,
    clear(): void { sentAt.clear(); early.clear(); },
    /** Waits (polling) until every accepted job has ended, at most timeoutMs; says how many did not. */
    async drain(timeoutMs: number, what = 'jobs'): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (sentAt.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      if (sentAt.size > 0) console.log(`warning: ${sentAt.size} ${what} did not end within ${timeoutMs} ms`);
    },
  };
}
export type JobEnds = ReturnType<typeof jobEnds>;

/** Every job's terminal status write (completed or dead-lettered) on the bucket, fed to `ends`. */
export function watchStatusEnds(nc: NatsConnection, ends: JobEnds): Subscription {
  return nc.subscribe(terminalStatusSubjects, {
    callback: (_err, msg) => ends.ended(jobIdOfStatusSubject(msg.subject), msg.string().includes('"completed"') ? 'completed' : 'dead_lettered'),
  });
}
