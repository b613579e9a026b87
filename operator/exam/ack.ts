// `tps exam 3 ack`: the candidate says "I see a problem". Every failure of the day that has begun
// and was not acknowledged yet counts as detected now: how long after it began (in exam time, so
// the same at any --speed), whether within the exam's window, and which Prometheus alerts were
// firing (the evidence of what the candidate saw; natively and in compose Prometheus evaluates the
// shipped rules). A failure acknowledged before it began cannot be: nothing is recorded for it.
// Acknowledging an alert (on the console's board, or with amtool) is a silence in Alertmanager:
// the proctor reads the silences and counts each new one as an ack at the moment it began, with
// who and why as the note.
import { z } from 'zod';
import type { Silence } from '#operator/alertmanager-api.ts';
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
  const now = (deps.now ?? Date.now)();
  const open = [...starts.values()].filter((s) => !acked.has(s.failure) && Date.parse(s.at) <= now);
  if (open.length === 0) return [];
  const alerts = await firingAlerts(deps.prometheusUrl);
  const done: Acknowledged[] = [];
  for (const s of open) {
    const detectedMs = Math.max(0, (now - Date.parse(s.at)) * deps.run.speed);
    const ack = { failure: s.failure, detectedMs, inTime: detectedMs <= deps.timeline.detectWithin, alerts };
    await deps.publish(examSubjects.ack, { ...ack, ...(deps.note ? { note: deps.note } : {}) });
    done.push(ack);
  }
  return done;
}

/**
 * The silences made during the run that were not counted yet, each an ack at its start: "alice
 * (console) silenced TpsCircuitFlapping: <why>". `seen` holds the silences counted (or passed
 * over) so far; a silence set to begin later is left until it begins.
 */
export async function acknowledgeSilences(deps: Omit<AckDeps, 'note' | 'now'>, silences: readonly Silence[], seen: Set<string>): Promise<Acknowledged[]> {
  const runStart = Date.parse(deps.run.startedAt);
  const done: Acknowledged[] = [];
  const fresh = silences.filter((s) => !seen.has(s.id) && s.status.state !== 'pending').sort((a, b) => a.startsAt.localeCompare(b.startsAt));
  for (const s of fresh) {
    seen.add(s.id);
    const at = Date.parse(s.startsAt);
    if (!(at >= runStart)) continue;
    const alertname = s.matchers.find((m) => m.name === 'alertname')?.value ?? 'an alert';
    done.push(...await acknowledge({ ...deps, note: `${s.createdBy} silenced ${alertname}: ${s.comment}`, now: () => at }));
  }
  return done;
}
