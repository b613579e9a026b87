// Starts the admin API inside the autoscaler process (the control-plane process), with the token
// the autoscaler checked at its start; listens on ADMIN_HOST (127.0.0.1 unless set) at ADMIN_PORT.
import { openChaosStore } from '#platform/chaos/store.ts';
import { controlOperations } from '#platform/control/operations.ts';
import { openControlStore } from '#platform/control/store.ts';
import { openDlqOperations } from '#platform/dlq/operations.ts';
import { parameterOperations } from '#platform/params/operations.ts';
import { defaultPorts } from '#platform/ports.ts';
import { listenHttp, type RoleContext } from '#platform/role-runtime.ts';
import { buildAdminApp } from './app.ts';
import { bearerChecker } from './auth.ts';

export async function startAdminApi(ctx: RoleContext, token: string): Promise<number> {
  const { config, logger, nc } = ctx;
  const dlq = ctx.own('close the DLQ operations', await openDlqOperations(nc, { registry: ctx.registry }), (d) => d.close());
  const store = await openControlStore(nc);
  const control = controlOperations(nc, store, config.autoscaler.enabled);
  const app = await buildAdminApp({
    logger: logger.child({ api: 'admin' }), authorized: bearerChecker(token), control, dlq, params: parameterOperations(nc, store),
    chaos: await openChaosStore(nc),
    timeouts: config.http, rateLimitPerSecond: config.admin.rateLimitPerSecond,
  });
  const address = { host: config.admin.host, port: config.admin.port ?? defaultPorts.admin + config.http.portOffset };
  const port = await listenHttp(app, address, logger.child({ api: 'admin' }));
  ctx.own('stop the admin API', app, (a) => a.close());
  logger.info({ url: `http://${address.host}:${port}/admin` }, 'admin API listening (bearer token required)');
  return port;
}
