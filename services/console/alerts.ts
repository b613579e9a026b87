// The Andon cord on the console: the alerts Alertmanager holds (Prometheus fired them from the
// handbook's rules), read from its API v2, with the silences that acknowledge them. Alertmanager
// is the one place that knows: the console keeps only the last reading, refreshed at every board
// update and when Alertmanager's webhook says something changed. Acknowledging an alert is a
// silence on exactly its labels, saying who and why, for a bounded time.
import { z } from 'zod';

const alertSchema = z.object({
  fingerprint: z.string(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()).default({}),
  startsAt: z.string(),
  status: z.object({ state: z.string(), silencedBy: z.array(z.string()).default([]), inhibitedBy: z.array(z.string()).default([]) }),
});
const silenceSchema = z.object({
  id: z.string(),
  createdBy: z.string(),
  comment: z.string(),
  endsAt: z.string(),
  status: z.object({ state: z.string() }),
});
export type FiringAlert = z.infer<typeof alertSchema>;
export type Silence = z.infer<typeof silenceSchema>;

export type AlertReading =
  | { reachable: true; at: string; alerts: FiringAlert[]; silences: Map<string, Silence> }
  | { reachable: false; at: string; reason: string };

export type AlertWatch = {
  readonly url: string;
  latest(): AlertReading | undefined;
  refresh(): Promise<AlertReading>;
  /** A silence on exactly this alert's labels; returns its id. */
  acknowledge(fingerprint: string, who: string, why: string, hours: number): Promise<{ silenceId: string; alert: FiringAlert }>;
};

const severityOrder: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3 };
const bySeverity = (a: FiringAlert, b: FiringAlert) => (severityOrder[a.labels.severity ?? ''] ?? 9) - (severityOrder[b.labels.severity ?? ''] ?? 9) || a.startsAt.localeCompare(b.startsAt);

export class AlertmanagerError extends Error {}

export function alertWatch(url: string): AlertWatch {
  let last: AlertReading | undefined;
  const api = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${url}/api/v2${path}`, { ...init, signal: AbortSignal.timeout(2_000) });
    if (!res.ok) throw new AlertmanagerError(`Alertmanager answered ${res.status} to ${path}: ${(await res.text()).slice(0, 200)}`);
    return res.json() as Promise<unknown>;
  };
  const read = async (): Promise<AlertReading> => {
    try {
      const [alerts, silences] = await Promise.all([api('/alerts?active=true&silenced=true&inhibited=true'), api('/silences')]);
      return {
        reachable: true, at: new Date().toISOString(),
        alerts: z.array(alertSchema).parse(alerts).sort(bySeverity),
        silences: new Map(z.array(silenceSchema).parse(silences).filter((s) => s.status.state === 'active').map((s) => [s.id, s])),
      };
    } catch (err) {
      return { reachable: false, at: new Date().toISOString(), reason: (err as Error).message };
    }
  };
  return {
    url,
    latest: () => last,
    async refresh() {
      last = await read();
      return last;
    },
    async acknowledge(fingerprint, who, why, hours) {
      const reading = await read();
      if (!reading.reachable) throw new AlertmanagerError(reading.reason);
      const alert = reading.alerts.find((a) => a.fingerprint === fingerprint);
      if (!alert) throw new AlertmanagerError(`no alert ${fingerprint} is firing any more`);
      const now = Date.now();
      const created = await api('/silences', {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          matchers: Object.entries(alert.labels).map(([name, value]) => ({ name, value, isRegex: false, isEqual: true })),
          startsAt: new Date(now).toISOString(), endsAt: new Date(now + hours * 3_600_000).toISOString(), createdBy: who, comment: why,
        }),
      });
      last = await read();
      return { silenceId: z.object({ silenceID: z.string() }).parse(created).silenceID, alert };
    },
  };
}
