// The runtime every role starts from: logger, metrics registry, NATS connection and lifecycle,
// wired once here so that no service repeats it. A role's start function registers its own
// shutdown steps; draining NATS always comes after them.
import type { FastifyInstance } from 'fastify';
import { childEnvironment, type Config } from './config.ts';
import { createLifecycle, installSignalHandlers, type Lifecycle } from './lifecycle.ts';
import { createLogger, type Logger } from './logger.ts';
import { createRegistry, setExemplarSource, type MetricsRegistry } from './metrics.ts';
import { connectNats, type NatsConnection } from './nats/connect.ts';
import { activeTraceId } from './telemetry/context.ts';
import { missingPreloadWarning, telemetryState } from './telemetry/state.ts';

export type RoleContext = {
  readonly service: string;
  readonly config: Config;
  readonly logger: Logger;
  readonly registry: MetricsRegistry;
  readonly nc: NatsConnection;
  readonly lifecycle: Lifecycle;
};

export type RoleOptions = { signals?: boolean; logger?: Logger };

/** Starts a role; if start fails, whatever it opened is closed again before the error is thrown. */
export async function runRole(service: string, config: Config, start: (ctx: RoleContext) => Promise<unknown>, opts: RoleOptions = {}): Promise<RoleContext> {
  const logger = opts.logger ?? createLogger(service, config);
  const registry = createRegistry();
  // Latency histograms take the active span's trace id as their exemplar.
  setExemplarSource(activeTraceId);
  const telemetryWarning = missingPreloadWarning(childEnvironment({}));
  if (telemetryWarning) logger.warn(telemetryWarning);
  const lifecycle = createLifecycle(logger, { graceMs: config.shutdownGraceMs });
  if (opts.signals ?? true) installSignalHandlers(lifecycle);
  const nc = await connectNats(config.nats, { name: `${service}/${config.instanceId}`, logger });
  const ctx: RoleContext = { service, config, logger, registry, nc, lifecycle };
  try {
    await start(ctx);
  } catch (err) {
    lifecycle.onShutdown('close NATS', () => nc.close());
    await lifecycle.shutdown('start failed');
    throw err;
  }
  lifecycle.onShutdown('drain NATS', () => nc.drain());
  logger.info({ nats: config.nats.servers, telemetry: telemetryState() }, `${service} started`);
  return ctx;
}

export class PortInUseError extends Error {
  constructor(host: string, port: number, cause: unknown) {
    super(`Port ${port} on ${host} is already in use (another TPS Lab, or another program). Stop it, or set HTTP_PORT.`, { cause });
    this.name = 'PortInUseError';
  }
}

/** Listens on HTTP_HOST:HTTP_PORT (or the role's default port) and closes first on shutdown. */
export async function listen(app: FastifyInstance, ctx: RoleContext, defaultPort: number): Promise<number> {
  const host = ctx.config.http.host;
  const port = ctx.config.http.port ?? defaultPort + ctx.config.http.portOffset;
  try {
    await app.listen({ host, port });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(host, port, err);
    throw err;
  }
  ctx.lifecycle.onShutdown('stop accepting HTTP', () => app.close());
  const address = app.server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  ctx.logger.info({ url: `http://${host}:${bound}` }, 'listening');
  return bound;
}
