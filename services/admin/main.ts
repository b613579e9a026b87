// Starts the admin API inside the autoscaler process (the control-plane process), with the token
// the autoscaler checked at its start; listens on ADMIN_HOST (127.0.0.1 unless set) at ADMIN_PORT.
import { controlOperations } from '#platform/control/operations.ts';
import { openControlStore } from '#platform/control/store.ts';
import { openDlqOperations } from '#platform/dlq/operations.ts';
import { defaultPorts } from '#platform/ports.ts';
import { PortInUseError, type RoleContext } from '#platform/role-runtime.ts';
import { buildAdminApp } from './app.ts';
import { bearerChecker } from './auth.ts';

export async function startAdminApi(ctx: RoleContext, token: string): Promise<number> {
  const { config, logger, nc, lifecycle } = ctx;
  const dlq = await openDlqOperations(nc);
  const control = controlOperations(nc, await openControlStore(nc), config.autoscaler.enabled);
  const app = await buildAdminApp({
    logger: logger.child({ api: 'admin' }), authorized: bearerChecker(token), control, dlq,
    timeouts: config.http, rateLimitPerSecond: config.admin.rateLimitPerSecond,
  });
  const host = config.admin.host;
  const port = config.admin.port ?? defaultPorts.admin + config.http.portOffset;
  try {
    await app.listen({ host, port });
  } catch (err) {
    dlq.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(host, port, err);
    throw err;
  }
  lifecycle.onShutdown('stop the admin API', async () => { await app.close(); dlq.close(); });
  const address = app.server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  logger.info({ url: `http://${host}:${bound}/admin` }, 'admin API listening (bearer token required)');
  return bound;
}
