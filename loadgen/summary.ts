// The end of a run: a k6-like text summary for people and the same numbers as JSON for machines.
import type { LoadResult } from './generator.ts';
import { formatMix } from './mix.ts';
import { ms } from './progress.ts';
import { shellWord } from '#platform/shell-word.ts';

export type SummaryJson = ReturnType<typeof summaryJson>;

export function summaryJson(r: LoadResult, ledger?: string) {
  const c = r.counts;
  return {
    url: r.url,
    rate: r.rate,
    mix: formatMix(r.mix),
    scheduled: r.scheduled,
    elapsed_seconds: round(r.elapsedMs / 1000),
    arrivals: c.arrivals,
    achieved_rate: round(r.achievedRate),
    http_reqs: c.sent,
    http_req_duration_ms: Object.fromEntries(Object.entries(r.latency).map(([k, v]) => [k, round(v)])),
    statuses: c.statuses,
    dropped_iterations: c.dropped,
    late_arrivals: c.late,
    max_lateness_ms: round(c.maxLateMs),
    accepted_jobs: c.accepted,
    stopped_early: r.stoppedEarly,
    interrupted: r.interrupted,
    ...(ledger ? { ledger } : {}),
  };
}

export function formatSummary(r: LoadResult, ledger?: string): string {
  const c = r.counts;
  const l = r.latency;
  const row = (name: string, value: string) => `  ${`${name} `.padEnd(24, '.')} ${value}`;
  const statuses = Object.entries(c.statuses).map(([k, v]) => `${k}=${v}`).join(' ');
  const seconds = r.elapsedMs / 1000;
  return [
    '',
    `  open model: ${r.rate} arrivals/s, ${r.scheduled} scheduled, mix ${formatMix(r.mix)} -> ${r.url}${r.stoppedEarly ? '  (STOPPED EARLY)' : ''}${r.interrupted ? '  (INTERRUPTED)' : ''}`,
    '',
    row('http_reqs', `${c.sent}  ${(c.sent / seconds).toFixed(1)}/s`),
    row('arrival_rate', `${r.achievedRate.toFixed(1)}/s achieved of ${r.rate}/s scheduled (${c.arrivals} arrivals)`),
    row('http_req_duration', `avg=${ms(l.avg)} min=${ms(l.min)} med=${ms(l.p50)} p(90)=${ms(l.p90)} p(95)=${ms(l.p95)} p(99)=${ms(l.p99)} max=${ms(l.max)}  (from the scheduled time)`),
    row('http_req_status', statuses),
    row('dropped_iterations', `${c.dropped}${c.dropped > 0 ? '  (the in-flight cap was reached: raise --concurrency-cap, or the server is too slow for this rate)' : ''}`),
    row('late_arrivals', `${c.late}  (max ${ms(c.maxLateMs)} late${c.late > 0 ? '; the generator itself was short of CPU' : ''})`),
    row('jobs_accepted', String(c.accepted)),
    ...(ledger ? [row('ledger', `${ledger}  (check it with \`tps audit ${shellWord(ledger)}\`)`)] : []),
    '',
  ].join('\n');
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
