// Every long-running role, what starts it, and where it listens. `tps run <role>`, the native
// supervisor and compose all use this table, so the roles are the same wherever they run.
// The order is the start order; the supervisor stops them in reverse (ingress first).
import type { Config } from '#platform/config.ts';
import { cliEntry, telemetryPreload } from '#platform/paths.ts';
import type { Pool } from '#platform/pools.ts';
import { defaultPorts } from '#platform/ports.ts';
import type { RoleContext } from '#platform/role-runtime.ts';

export type RoleDefinition = {
  readonly name: string;
  readonly description: string;
  readonly port: number;
  /** Loaded lazily so one role does not load another's dependencies. */
  readonly start: (ctx: RoleContext) => Promise<unknown>;
  /** Role-specific configuration on top of the environment (e.g. which pool a worker serves). */
  readonly env?: Readonly<Record<string, string>>;
  /** The pool a worker role pulls for; only these roles run as several replicas. */
  readonly pool?: Pool;
};

export const roles: Readonly<Record<string, RoleDefinition>> = {
  'service-c': {
    name: 'service-c',
    description: 'Last service of the chain, the database-like tier',
    port: defaultPorts['service-c'],
    start: async (ctx) => (await import('./chain/main.ts')).startChain(ctx, 'service-c'),
  },
  'service-b': {
    name: 'service-b',
    description: 'Second service of the chain; calls service-c',
    port: defaultPorts['service-b'],
    start: async (ctx) => (await import('./chain/main.ts')).startChain(ctx, 'service-b'),
  },
  'service-a': {
    name: 'service-a',
    description: 'First service of the chain; validates payloads, calls service-b',
    port: defaultPorts['service-a'],
    start: async (ctx) => (await import('./chain/main.ts')).startChain(ctx, 'service-a'),
  },
  'worker-fast': {
    name: 'worker-fast',
    description: 'Fast worker pool: pulls JOBS_FAST, calls the service chain (metrics port)',
    port: defaultPorts['worker-fast'],
    pool: 'fast',
    start: async (ctx) => (await import('#workers/main.ts')).startWorker(ctx, 'fast'),
  },
  'worker-slow': {
    name: 'worker-slow',
    description: 'Slow worker pool: pulls JOBS_SLOW, calls the service chain (metrics port)',
    port: defaultPorts['worker-slow'],
    pool: 'slow',
    start: async (ctx) => (await import('#workers/main.ts')).startWorker(ctx, 'slow'),
  },
  ingress: {
    name: 'ingress',
    description: 'HTTP API: validates jobs and publishes them onto the bounded queues',
    port: defaultPorts.ingress,
    start: async (ctx) => (await import('./ingress/main.ts')).startIngress(ctx),
  },
  autoscaler: {
    name: 'autoscaler',
    description: 'Sets worker slots from queue lag and utilization; serves the admin API when enabled (metrics port)',
    port: defaultPorts.autoscaler,
    start: async (ctx) => (await import('./autoscaler/main.ts')).startAutoscaler(ctx),
  },
};

export const roleNames = Object.keys(roles);

export function findRole(name: string): RoleDefinition | undefined {
  return Object.hasOwn(roles, name) ? roles[name] : undefined;
}

export type { Config };

/** The Node arguments that run a role as its own process: the telemetry preload first (it must
 * load before any module it instruments), then `tps run <role>`. The native supervisor uses this;
 * bin/tps does the same for `tps run`, and a container runs
 * `node --import ./platform/telemetry/preload.ts cli/main.ts run <role>`. */
export function roleNodeArgs(name: string): string[] {
  return ['--disable-warning=ExperimentalWarning', '--import', telemetryPreload, cliEntry, 'run', name];
}
