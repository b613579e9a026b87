// The runtime every role starts from, built from its entry in the role table (roles.ts): logger,
// metrics registry, NATS connection, the topology check, chaos, the operator's levers, the HTTP
// server and the lifecycle, wired once here so that no role repeats it. A role's start function
// builds only what is its own and hands back its parts (its HTTP app or readiness, its breakers,
// its pool lever); each resource it opens it registers with `own`, and shutdown closes them one
// step per resource, so a close that fails is logged and the rest still run.
import { PortInUseError } from './http/port-in-use.ts';
import { jetstreamManager } from '@nats-io/jetstream';
import type { FastifyInstance } from 'fastify';
import { openChaosStore } from './chaos/store.ts';
import { startChaos, type Chaos } from './chaos/injector.ts';
import { childEnvironment, type Config } from './config.ts';
import { obeyControl, type ControlledBreaker, type ControlledPool } from './control/obey.ts';
import { openControlStore } from './control/store.ts';
import { createOperationalServer, type OperationalServer } from './http/operational-server.ts';
import type { ReadinessCheck } from './http/server.ts';
import { createLifecycle, installSignalHandlers, type Lifecycle } from './lifecycle.ts';
import { createLogger, type Logger } from './logger.ts';
import { createRegistry, gauge, metrics, setExemplarSource, type MetricsRegistry } from './metrics.ts';
import { canaryName, canaryServices, isCanaryService } from './canary.ts';
import { brokerState, connectNats, drainUnlessDown, type BrokerState, type NatsConnection } from './nats/connect.ts';
import { verifyTopology } from './nats/provision.ts';
import { declareTopology } from './nats/topology.ts';
import type { RoleSpec } from './roles.ts';
import { sampledTraceId } from './telemetry/context.ts';
import { missingPreloadWarning, telemetryState } from './telemetry/state.ts';

export type RoleContext = {
  readonly service: string;
  readonly config: Config;
  readonly logger: Logger;
  readonly registry: MetricsRegistry;
  readonly nc: NatsConnection;
  /** Whether that connection is up, tracked from the start (readiness, a worker's pulls, the drain). */
  readonly broker: BrokerState;
  readonly lifecycle: Lifecycle;
  /** Faults aimed at this role (disarmed unless an operator sets one). */
  readonly chaos: Chaos;
  /** Registers what closes a resource the role opened; shutdown runs these newest first. */
  own<T>(name: string, resource: T, close: (resource: T) => unknown): T;
};

/** What a role's start function hands back for runRole to wire. */
export type RoleParts = {
  /** The role's own HTTP app; without one, runRole serves the kit's (/healthz, /readyz, /metrics). */
  readonly app?: FastifyInstance;
  /** Readiness of the kit's app; NATS connected is always part of it. */
  readonly readiness?: ReadinessCheck;
  /** Breakers that follow `tps breaker open|close` (roles whose spec obeys control). */
  readonly breakers?: readonly ControlledBreaker[];
  /** A worker's slots, which follow `tps scale` and the autoscaler. */
  readonly pool?: ControlledPool;
};

export type RoleDefinition = RoleSpec & { readonly start: (ctx: RoleContext) => Promise<RoleParts> };

export type RoleOptions = { signals?: boolean; logger?: Logger };

export type RunningRole = { readonly ctx: RoleContext; readonly port: number };

type Owned = { name: string; close: () => unknown; abandon?: () => unknown };
type Runtime = Omit<RoleContext, 'chaos' | 'own'>;

/** Starts a role; if starting fails, whatever it opened is closed again before the error is thrown. */
export async function runRole(role: RoleDefinition, config: Config, opts: RoleOptions = {}): Promise<RunningRole> {
  const runtime = await openRuntime(role.name, config, opts);
  const owned: Owned[] = [];
  const own = <T>(name: string, resource: T, close: (r: T) => unknown): T => {
    owned.push({ name, close: () => close(resource) });
    return resource;
  };
  try {
    const { ctx, port } = await wireRole(role, runtime, own);
    // A drain that fails (the server is gone) or times out is abandoned: the connection is closed,
    // else its reconnect loop keeps the process alive after shutdown.
    closeOnShutdown(runtime.lifecycle, owned, { name: 'drain NATS', close: () => drainUnlessDown(runtime.nc, runtime.broker), abandon: () => runtime.nc.close() });
    runtime.logger.info({ nats: config.nats.servers, telemetry: telemetryState(), port }, `${role.name} started`);
    return { ctx, port };
  } catch (err) {
    closeOnShutdown(runtime.lifecycle, owned, { name: 'close NATS', close: () => runtime.nc.close() });
    await runtime.lifecycle.shutdown('start failed');
    throw err;
  }
}

async function openRuntime(service: string, config: Config, opts: RoleOptions): Promise<Runtime> {
  const logger = opts.logger ?? createLogger(service, config);
  const registry = createRegistry();
  // Latency histograms take the active span's trace id as their exemplar.
  setExemplarSource(sampledTraceId);
  const telemetryWarning = missingPreloadWarning(childEnvironment({}));
  if (telemetryWarning) logger.warn(telemetryWarning);
  const lifecycle = createLifecycle(logger, { graceMs: config.shutdownGraceMs });
  if (opts.signals ?? true) installSignalHandlers(lifecycle, logger);
  const nc = await connectNats(config.nats, { name: `${service}/${config.instanceId}`, logger });
  return { service, config, logger, registry, nc, broker: brokerState(nc), lifecycle };
}

/** The declared wiring, in the order a role needs it: topology, chaos, the role's own parts,
 * the operator's levers, then HTTP last, so nothing is served before everything behind it runs. */
async function wireRole(role: RoleDefinition, runtime: Runtime, own: RoleContext['own']): Promise<RunningRole> {
  const { config, logger, registry, nc } = runtime;
  const needs = role.needs;
  await verifyTopology(await jetstreamManager(nc), declareTopology(config), {
    streams: [...needs.streams, ...needs.buckets.map((b) => `KV_${b}`)],
    consumers: [...needs.consumers],
  });
  const { version, track } = config.deployment;
  if (track === 'canary' && !isCanaryService(role.name)) throw new Error(`DEPLOYMENT_TRACK=canary: only ${canaryServices.join(' and ')} run a canary; ${role.name} does not`);
  gauge(registry, metrics.buildInfo).set({ role: role.name, version, track }, 1);
  // A canary has a chaos target of its own: `service-b-canary`'s faults act on it, `service-b`'s do not.
  const chaosTarget = track === 'canary' && isCanaryService(role.name) ? canaryName(role.name) : role.name;
  const chaos = own('stop chaos', await startChaos(chaosTarget, await openChaosStore(nc), { registry, logger, reportSystemFaults: role.reportsSystemFaults }), (c) => c.stop());
  const ctx: RoleContext = { ...runtime, chaos, own };
  const parts = await role.start(ctx);
  if (role.obeysControl) {
    const stop = await obeyControl(nc, await openControlStore(nc), {
      instance: config.instanceId, role: role.name, logger, registry, breakers: parts.breakers ?? [], ...(parts.pool ? { pool: parts.pool } : {}),
    });
    own('stop obeying control', stop, (s) => s());
  }
  const app = parts.app ?? operationalApp(role, ctx, parts.readiness);
  const port = await listenHttp(app, roleAddress(config, role.port), logger);
  own('stop accepting HTTP', app, (a) => a.close());
  return { ctx, port };
}

/** For a role without routes of its own: /healthz, /readyz, /metrics on Node's own server (no
 * Fastify loaded; no chaos either: faults never act on these operational routes). */
function operationalApp(role: RoleSpec, ctx: RoleContext, readiness: ReadinessCheck | undefined): OperationalServer {
  const { broker } = ctx;
  return createOperationalServer({
    service: role.name,
    logger: ctx.logger,
    registry: ctx.registry,
    timeouts: ctx.config.http,
    readiness: async () => ({ nats: broker.connected() ? true : 'not connected to NATS', ...(await readiness?.()) }),
  });
}

/** One shutdown step per resource, newest first, then NATS. */
function closeOnShutdown(lifecycle: Lifecycle, owned: readonly Owned[], last: Owned): void {
  for (const step of [...owned].reverse()) lifecycle.onShutdown(step.name, step.close);
  lifecycle.onShutdown(last.name, last.close, last.abandon);
}

/** HTTP_HOST:HTTP_PORT, or the role's default port moved by TPS_PORT_OFFSET. */
export function roleAddress(config: Config, defaultPort: number): { host: string; port: number } {
  return { host: config.http.host, port: config.http.port ?? defaultPort + config.http.portOffset };
}

/** Listens; a taken port is a PortInUseError that says what to do. Returns the bound port. */
export async function listenHttp(app: FastifyInstance | OperationalServer, { host, port }: { host: string; port: number }, logger: Logger): Promise<number> {
  try {
    await app.listen({ host, port });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(host, port, err);
    throw err;
  }
  const address = app.server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  logger.info({ url: `http://${host}:${bound}` }, 'listening');
  return bound;
}
