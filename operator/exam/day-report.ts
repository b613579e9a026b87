// The exam day in the report: what happened (each failure and when it began), how the candidate
// detected it (the ack: how long after, in time or late, the alerts firing, their note) and what
// they changed after it began (the lever events), read back from the EVENTS stream.
import { eventSubject } from '#platform/nats/subjects.ts';
import { promqlValue } from '#operator/labs/promql-probe.ts';
import { examSubjects, failureStarts, type Timeline } from './timeline.ts';

type Event = Readonly<Record<string, unknown>>;
type Read = (subject: string, since: Date) => Promise<readonly Event[]>;

/** The audit events that are a candidate's levers. */
const leverSubjects = [eventSubject('control.>'), eventSubject('config.>')];

const minutes = (ms: number) => `${Math.round(ms / 60_000)} exam min`;

function leverText(e: Event): string {
  const kind = String(e.kind ?? '');
  const what = kind === 'config.set' ? `${String(e.name)} = ${String(e.to)}` : kind === 'control.restart' ? `restart ${String(e.role)}` : `${String(e.pool ?? e.circuit ?? '')} ${e.to !== undefined ? `to ${String(e.to)}` : ''}`.trim();
  return `${String(e.at).slice(11, 19)} ${kind} ${what} (by ${String(e.by)})`;
}

/** Seconds a pool was outside an SLO (latency 99 %, availability 99.9 %) in the window ending at
 * `end`, from the recorded 1-minute error ratios, sampled every 5 s. */
const brokenSeconds = (windowS: number) =>
  `(count_over_time((max(pool_slo:tps_errors:ratio_rate1m{slo="latency"}) > 0.01 or max(pool_slo:tps_errors:ratio_rate1m{slo="availability"}) > 0.001)[${windowS}s:5s]) * 5) or vector(0)`;

/** SLO time lost in the window, in exam minutes (wall seconds x speed), or why it is not known. */
async function sloLost(prometheusUrl: string | undefined, from: string, to: string, speed: number): Promise<string> {
  if (!prometheusUrl) return 'needs Prometheus';
  const end = new Date(Math.min(Date.parse(to), Date.now()));
  const windowS = Math.max(5, Math.round((end.getTime() - Date.parse(from)) / 1000));
  const seconds = await promqlValue(prometheusUrl, brokenSeconds(windowS), end);
  return typeof seconds === 'number' ? minutes(seconds * 1000 * speed) : 'unknown (Prometheus did not answer)';
}

export async function dayLines(timeline: Timeline, run: { startedAt: string; speed: number }, read: Read, prometheusUrl?: string): Promise<string[]> {
  const since = new Date(run.startedAt);
  const starts = failureStarts(await read(examSubjects.failure, since));
  const acks = await read(examSubjects.ack, since);
  const levers = (await Promise.all(leverSubjects.map((s) => read(s, since)))).flat().sort((a, b) => String(a.at).localeCompare(String(b.at)));
  const lines = ['', '## The day', '', '| Failure | Began | Detected | Alerts firing then | Levers after it began (until the next) | SLOs broken for |', '|---|---|---|---|---|---|'];
  const ordered = timeline.failures.filter((f) => starts.has(f.id));
  const ends = ordered.map((_, i) => starts.get(ordered[i + 1]?.id ?? '')?.at ?? new Date(Date.parse(run.startedAt) + timeline.length / run.speed).toISOString());
  const lost = await Promise.all(ordered.map((f, i) => sloLost(prometheusUrl, starts.get(f.id)?.at ?? run.startedAt, ends[i] ?? run.startedAt, run.speed)));
  ordered.forEach((f, i) => {
    const start = starts.get(f.id);
    const next = starts.get(ordered[i + 1]?.id ?? '')?.at ?? '9999';
    const ack = acks.find((a) => a.failure === f.id);
    const detected = ack ? `${minutes(Number(ack.detectedMs))}, ${ack.inTime ? 'in time' : 'late'}${ack.note ? `: "${String(ack.note)}"` : ''}` : 'not acknowledged';
    const alerts = Array.isArray(ack?.alerts) && ack.alerts.length ? ack.alerts.join(', ') : '';
    const changed = levers.filter((e) => String(e.at) >= String(start?.at) && String(e.at) < next && !String(e.by).startsWith('exam ')).map(leverText);
    lines.push(`| ${f.label} (${f.id}: ${start?.fault} on ${start?.target}) | ${String(start?.at).slice(11, 19)} | ${detected} | ${alerts} | ${changed.join('; ').replaceAll('|', '\\|')} | ${lost[i]} |`);
  });
  if (ordered.length < timeline.failures.length) lines.push('', `Not begun yet: ${timeline.failures.filter((f) => !starts.has(f.id)).map((f) => f.id).join(', ')}.`);
  return lines;
}
