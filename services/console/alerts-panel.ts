// The Andon cord at the top of the board: every alert Alertmanager holds, the most severe first,
// with what the handbook says of it (its summary, its description with the handbook's section,
// its runbook), firing or acknowledged (by whom, why, until when), and for a signed-in operator a
// form to acknowledge it.
import type { FiringAlert, Silence } from '#operator/alertmanager-api.ts';
import type { AlertReading } from './alerts.ts';
import { html, type Html } from './html.ts';

const severityMark: Record<string, string> = { critical: 'mark-bad', high: 'mark-bad', medium: 'mark-watch', low: 'mark-none' };
const clock = (iso: string) => iso.slice(11, 16);

function acknowledged(alert: FiringAlert, silences: ReadonlyMap<string, Silence>): Silence | undefined {
  return alert.status.silencedBy.map((id) => silences.get(id)).find((s): s is Silence => s !== undefined);
}

function alertRow(alert: FiringAlert, silences: ReadonlyMap<string, Silence>): Html {
  const severity = alert.labels.severity ?? 'none';
  const ack = acknowledged(alert, silences);
  const where = ['pool', 'circuit'].flatMap((k) => (alert.labels[k] ? [`${k} ${alert.labels[k]}`] : [])).join(', ');
  return html`<li class="alert" data-alert="${alert.fingerprint}" data-alertname="${alert.labels.alertname ?? ''}" data-state="${ack ? 'acknowledged' : alert.status.inhibitedBy.length ? 'inhibited' : 'firing'}">
<strong class="${severityMark[severity] ?? 'mark-none'}">${severity.toUpperCase()}</strong> <strong>${alert.labels.alertname ?? ''}</strong>${where ? ` (${where})` : ''}: ${alert.annotations.summary ?? ''}
<small>since ${clock(alert.startsAt)} UTC</small>
<br><small>${alert.annotations.description ?? ''}${alert.annotations.runbook ? html` Runbook: <code>${alert.annotations.runbook}</code>` : ''}</small>
${ack ? html`<br><span class="mark-ok" data-testid="ack-${alert.fingerprint}">acknowledged by ${ack.createdBy}: ${ack.comment} (silenced until ${clock(ack.endsAt)} UTC)</span>` : html`
<span class="admin-only ack"><input name="who-${alert.fingerprint}" placeholder="who" aria-label="who acknowledges" maxlength="60"> <input name="why-${alert.fingerprint}" placeholder="why / what you do about it" aria-label="why" maxlength="200"> <button type="button" data-action="ack" data-name="${alert.fingerprint}">Acknowledge</button></span>`}
</li>`;
}

export function renderAlerts(reading: AlertReading | undefined, url: string): Html {
  if (!reading) return html`<p><small>reading Alertmanager…</small></p>`;
  if (!reading.reachable) {
    return html`<p data-testid="alerts-none" class="mark-none">No Alertmanager answers at ${url}: alerts are only in Prometheus' UI. (<code>make up</code> starts one with Prometheus when Debian's <code>prometheus-alertmanager</code> is installed; compose runs one.)</p>`;
  }
  const firing = reading.alerts.filter((a) => !acknowledged(a, reading.silences));
  if (reading.alerts.length === 0) return html`<p data-testid="alerts-none" class="mark-ok">No alert firing (Alertmanager at ${url}).</p>`;
  return html`<p data-testid="alerts-count">${firing.length} firing, ${reading.alerts.length - firing.length} acknowledged</p>
<ul class="alerts" data-testid="alerts">${reading.alerts.map((a) => alertRow(a, reading.silences))}</ul>`;
}
