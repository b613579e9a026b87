// The PromQL probe: a query against Prometheus when it runs (a peak over the lab's time with
// max_over_time, a rate over a window), else the probe the lab gives for the roles' own /metrics
// or the events. "{since}" in the query is the lab's age as a PromQL duration (at least 60s). A
// range selector (`max(max_over_time(x[{since}]))`) sees a sample from the first scrape on; a
// subquery (`[{since}:5s]`) would not until its next aligned step.
import type { Probe } from './lab-schema.ts';
import type { LabRun } from './lab-state.ts';
import { compare, type ProbeResult } from './probe-result.ts';
import { isFailure, prometheusApi } from '#operator/prometheus-api.ts';

type PromqlProbe = Extract<Probe, { kind: 'promql' }>;

/** Whether a Prometheus answers at this URL (asked once per grading). */
export async function prometheusReady(url: string | undefined): Promise<boolean> {
  if (!url) return false;
  return fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_500) }).then((r) => r.ok, () => false);
}

export const sinceDuration = (run: LabRun, now = Date.now()): string => `${Math.max(60, Math.ceil((now - Date.parse(run.startedAt)) / 1000))}s`;

type Answer = { resultType: string; result: Array<{ value?: [number, string] }> | [number, string] };

/** The query's value now (or at `at`): a scalar, or the largest value of the vector it returns; a string says why not. */
export async function promqlValue(url: string, expr: string, at?: Date): Promise<number | string> {
  const answer = await prometheusApi<Answer>(url, '/api/v1/query', { query: expr, ...(at ? { time: String(at.getTime() / 1000) } : {}) });
  if (isFailure(answer)) return answer.reason;
  if (answer.resultType === 'scalar') return Number((answer.result as [number, string])[1]);
  const values = (answer.result as Array<{ value?: [number, string] }>).map((s) => Number(s.value?.[1])).filter(Number.isFinite);
  return values.length ? Math.max(...values) : 'the query returns no data yet';
}

export async function promqlResult(probe: PromqlProbe, run: LabRun, prometheusUrl: string): Promise<ProbeResult> {
  const expr = probe.query.replaceAll('{since}', sinceDuration(run));
  const value = await promqlValue(prometheusUrl, expr);
  if (typeof value === 'string') return { holds: false, reason: `${value}: ${expr}` };
  const measured = Math.round(value * 1000) / 1000;
  return compare[probe.op](measured, probe.value) ? { holds: true, measured } : { holds: false, measured, reason: `${expr} is ${measured} (Prometheus); the check wants ${probe.op} ${probe.value}` };
}
