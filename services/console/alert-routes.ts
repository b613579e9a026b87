// The Andon cord's routes: Alertmanager's webhook (a nudge to read its API again now; the body is
// not trusted, so it needs no credential and changes nothing but when the console looks), the
// alerts as JSON, and the acknowledgement: an action like any other (same origin, the admin token,
// which the admin API checks), then a silence on exactly the alert's labels in Alertmanager, which
// keeps who, why and until when.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '#platform/errors.ts';
import type { Logger } from '#platform/logger.ts';
import type { AdminClient } from './admin-client.ts';
import { AlertmanagerError } from '#operator/alertmanager-api.ts';
import type { AlertWatch } from './alerts.ts';
import { action } from './guard.ts';

/** How long an acknowledgement silences its alert. */
const ackHours = 2;
const ackBody = z.strictObject({ fingerprint: z.string().regex(/^[0-9a-f]{1,32}$/), who: z.string().trim().min(1, 'say who acknowledges').max(60), why: z.string().trim().min(3, 'say why (what you are doing about it)').max(200) });

export function registerAlertRoutes(app: FastifyInstance, deps: { alerts: AlertWatch; admin: AdminClient; logger: Logger }): void {
  let reading: Promise<unknown> | undefined;
  app.post('/api/alerts/webhook', async () => {
    // One reading at a time, whatever the rate of notifications.
    reading ??= deps.alerts.refresh().finally(() => { reading = undefined; });
    await reading;
    return {};
  });
  app.get('/api/alerts', async () => {
    const now = await deps.alerts.refresh();
    return now.reachable ? { alertmanager: deps.alerts.url, alerts: now.alerts, silences: [...now.silences.values()] } : { alertmanager: deps.alerts.url, unreachable: now.reason };
  });
  app.post('/api/alerts/ack', async (request) => {
    const { authorization, body } = action(request, ackBody);
    await deps.admin.call('GET', '/admin/breakers', authorization); // the token, as the admin API judges it
    try {
      const { silenceId, alert } = await deps.alerts.acknowledge(body.fingerprint, `${body.who} (console)`, body.why, ackHours);
      deps.logger.info({ alert: alert.labels, silence: silenceId, who: body.who, why: body.why, ip: request.ip }, 'console: alert acknowledged (a silence in Alertmanager)');
      return { silenceId, message: `${alert.labels.alertname ?? 'The alert'} acknowledged by ${body.who}: silenced for ${ackHours} hours.` };
    } catch (err) {
      if (err instanceof AlertmanagerError) throw new AppError('ALERTMANAGER_UNAVAILABLE', { detail: err.message });
      throw err;
    }
  });
}
