// Every long-running role with what starts it: the role table (platform/roles.ts) joined to each
// role's start function. `tps run <role>`, the native supervisor, compose and the tests all start
// roles from here, so the roles are the same wherever they run. Start functions load lazily, so
// one role does not load another's dependencies. A worker role exists per pool: a new pool in
// platform/pools.ts is a new role here with no edit.
import { cliEntry, telemetryPreload } from '#platform/paths.ts';
import { roleSpecs, type RoleName, type RoleSpec } from '#platform/roles.ts';
import type { RoleContext, RoleDefinition, RoleParts } from '#platform/role-runtime.ts';

export type { RoleDefinition };

type Start = (ctx: RoleContext) => Promise<RoleParts>;

function starter(spec: RoleSpec): Start {
  if (spec.pool) {
    const pool = spec.pool;
    return async (ctx) => (await import('#workers/main.ts')).startWorker(ctx, pool);
  }
  const name = spec.name as Exclude<RoleName, `worker-${string}`>;
  switch (name) {
    case 'service-a':
    case 'service-b':
    case 'service-c':
      return async (ctx) => (await import('./chain/main.ts')).startChain(ctx, name);
    case 'ingress':
      return async (ctx) => (await import('./ingress/main.ts')).startIngress(ctx);
    case 'autoscaler':
      return async (ctx) => (await import('./autoscaler/main.ts')).startAutoscaler(ctx);
    case 'console':
      return async (ctx) => (await import('./console/main.ts')).startConsole(ctx);
  }
}

export const roles: Readonly<Record<string, RoleDefinition>> = Object.fromEntries(roleSpecs.map((spec) => [spec.name, { ...spec, start: starter(spec) }]));

export { roleNames } from '#platform/roles.ts';

export function findRole(name: string): RoleDefinition | undefined {
  return Object.hasOwn(roles, name) ? roles[name] : undefined;
}

/** The Node arguments that run a role as its own process: the telemetry preload first (it must
 * load before any module it instruments), then `tps run <role>`: from the role build when one is
 * given (the native supervisor's, operator/supervisor/role-build.ts), else from source as bin/tps
 * does for `tps run` and a container runs `node --import ./platform/telemetry/preload.ts cli/main.ts run <role>`. */
export function roleNodeArgs(name: string, build?: { main: string; preload: string }): string[] {
  return ['--disable-warning=ExperimentalWarning', '--import', build?.preload ?? telemetryPreload, build?.main ?? cliEntry, 'run', name];
}
