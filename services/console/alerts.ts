// The Andon cord on the console: the alerts Alertmanager holds (Prometheus fired them from the
// handbook's rules), read from its API v2, with the silences that acknowledge them. Alertmanager
// is the one place that knows: the console keeps only the last reading, refreshed at every board
// update and when Alertmanager's webhook says something changed. Acknowledging an alert is a
// silence on exactly its labels, saying who and why, for a bounded time.
import { alertmanagerApi, AlertmanagerError, type FiringAlert, type Silence } from '#operator/alertmanager-api.ts';

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

export function alertWatch(url: string): AlertWatch {
  let last: AlertReading | undefined;
  const api = alertmanagerApi(url);
  const read = async (): Promise<AlertReading> => {
    try {
      const [alerts, silences] = await Promise.all([api.alerts(), api.silences()]);
      return {
        reachable: true, at: new Date().toISOString(),
        alerts: alerts.sort(bySeverity),
        silences: new Map(silences.filter((s) => s.status.state === 'active').map((s) => [s.id, s])),
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
      const silenceId = await api.silence(alert.labels, who, why, hours);
      last = await read();
      return { silenceId, alert };
    },
  };
}
