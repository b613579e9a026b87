// `tps exam 3 ack`: the candidate says "I see a problem". Every failure of the day that has begun
// and was not acknowledged yet counts as detected now: how long after it began (in exam time, so
// the same at any --speed), whether within the exam's window, and which Prometheus alerts were
// firing (the evidence of what the candidate saw; natively and in compose Prometheus evaluates the
// shipped rules). A failure acknowledged before it began cannot be: nothing is recorded for it.
import { z } from 'zod';
import { isFailure, prometheusApi } from '#operator/prometheus-api.ts';
import { examSubjects, failureStarts, type Timeline } from './timeline.ts';

type Event = Readonly<Record<string, unknown>>;
export type AckDeps = {
  timeline: Timeline;
  run: { startedAt: string; speed: number };
  read(subject: string, since: Date): Promise<readonly Event[]>;
  publish(subject: string, fields: Record<string, unknown>): Promise<void>;
  prometheusUrl?: string | undefined;
  note?: string | undefined;
  now?: () => number;
};
export type Acknowledged = { failure: string; detectedMs: number; inTime: boolean; alerts: string[] };

const alertsAnswer = z.object({ alerts: z.array(z.object({ state: z.string(), labels: z.record(z.string(), z.string()) })) });

async function firingAlerts(url: string | undefined): Promise<string[]> {
  if (!url) return [];
  const answer = await prometheusApi<unknown>(url, '/api/v1/alerts');
  if (isFailure(answer)) return [];
  const parsed = alertsAnswer.safeParse(answer);
  return parsed.success ? [...new Set(parsed.data.alerts.filter((a) => a.state === 'firing').map((a) => a.labels.alertname ?? '?'))].sort() : [];
}

export async function acknowledge(deps: AckDeps): Promise<Acknowledged[]> {
  const since = new Date(deps.run.startedAt);
  const starts = failureStarts(await deps.read(examSubjects.failure, since));
  const acked = new Set((await deps.read(examSubjects.ack, since)).map((e) => String(e.failure)));
  const open = [...starts.values()].filter((s) => !acked.has(s.failure));
  if (open.length === 0) return [];
  const alerts = await firingAlerts(deps.prometheusUrl);
  const now = (deps.now ?? Date.now)();
  const done: Acknowledged[] = [];
  for (const s of open) {
    const detectedMs = Math.max(0, (now - Date.parse(s.at)) * deps.run.speed);
    const ack = { failure: s.failure, detectedMs, inTime: detectedMs <= deps.timeline.detectWithin, alerts };
    await deps.publish(examSubjects.ack, { ...ack, ...(deps.note ? { note: deps.note } : {}) });
    done.push(ack);
  }
  return done;
}
