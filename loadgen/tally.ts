// What a load run counts as it goes: arrivals sent, dropped and late, responses by status, and
// latency from the scheduled time. A window (reset by the progress line each second) gives the
// live rate and percentiles; the totals give the end summary.
import { LatencyHistogram, type LatencyStats } from './histogram.ts';

export const statusClasses = ['202', '429', '503', 'other', 'failed'] as const;
export type StatusClass = (typeof statusClasses)[number];

export function statusClass(status: number): StatusClass {
  if (status === 202 || status === 429 || status === 503) return String(status) as StatusClass;
  return 'other';
}

export type Counts = {
  /** Arrivals whose time came: sent + dropped. */
  arrivals: number;
  sent: number;
  /** Arrivals not sent because the in-flight cap was reached (k6's dropped_iterations). */
  dropped: number;
  /** Arrivals sent more than the lateness threshold after their scheduled time. */
  late: number;
  maxLateMs: number;
  responses: number;
  statuses: Record<StatusClass, number>;
  /** Jobs the ingress accepted (202 with a new id): the ledger's lines. */
  accepted: number;
  inFlight: number;
};

export class LoadTally {
  counts: Counts = { arrivals: 0, sent: 0, dropped: 0, late: 0, maxLateMs: 0, responses: 0, statuses: { 202: 0, 429: 0, 503: 0, other: 0, failed: 0 }, accepted: 0, inFlight: 0 };
  latency = new LatencyHistogram();
  window = { latency: new LatencyHistogram(), arrivals: 0, startedAt: 0 };

  arrived(sent: boolean, lateMs: number, lateAfterMs: number): void {
    const c = this.counts;
    c.arrivals += 1;
    this.window.arrivals += 1;
    if (!sent) {
      c.dropped += 1;
      return;
    }
    c.sent += 1;
    c.inFlight += 1;
    if (lateMs > lateAfterMs) c.late += 1;
    if (lateMs > c.maxLateMs) c.maxLateMs = lateMs;
  }

  answered(status: StatusClass, latencyMs: number, accepted: boolean): void {
    const c = this.counts;
    c.inFlight -= 1;
    c.responses += 1;
    c.statuses[status] += 1;
    if (accepted) c.accepted += 1;
    this.latency.record(latencyMs);
    this.window.latency.record(latencyMs);
  }

  /** The window since the last call, then a new window. */
  takeWindow(nowMs: number): { seconds: number; arrivals: number; latency: LatencyStats } {
    const w = this.window;
    const taken = { seconds: Math.max(0.001, (nowMs - w.startedAt) / 1000), arrivals: w.arrivals, latency: w.latency.stats() };
    this.window = { latency: new LatencyHistogram(), arrivals: 0, startedAt: nowMs };
    return taken;
  }
}
