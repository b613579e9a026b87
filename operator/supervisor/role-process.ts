// One role instance as a supervised child process: `tps run <role>` with the instance's port,
// INSTANCE_ID and NATS user, its output in logs/<instance>.log, restarted when it dies on its own.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { childEnvironment } from '#platform/config.ts';
import type { Passwords } from '#platform/nats/credentials.ts';
import { roleUsers } from '#platform/roles.ts';
import { roleNodeArgs } from '#services/registry.ts';
import { manage, type ManagedProcess } from './managed-process.ts';
import type { RoleBuild } from './role-build.ts';
import type { RoleInstance } from './role-instances.ts';

export type RoleProcess = { readonly instance: RoleInstance; readonly proc: ManagedProcess; ready: boolean };

export type RoleLaunch = {
  logDir: string;
  /** Each role in a session of its own (SupervisorOptions.sharedProcessGroup). */
  ownSession: boolean;
  /** Environment for every role on top of this process's (the caller's overrides, tracing). */
  env: Readonly<Record<string, string>>;
  natsUrl: string;
  /** Set when this supervisor runs its own (authenticated) nats-server. */
  passwords: Passwords | undefined;
  adminApi: boolean;
  /** The bundle the roles run from (undefined: from source). */
  build: RoleBuild | undefined;
  /** A line for the supervisor's log when the process dies on its own. */
  exited(line: string): void;
};

export function launchRole(instance: RoleInstance, launch: RoleLaunch): RoleProcess {
  const { role } = instance;
  const logFile = path.join(launch.logDir, `${instance.name}.log`);
  writeFileSync(logFile, '');
  const proc = manage({
    name: instance.name,
    command: process.execPath,
    args: roleNodeArgs(role.name, launch.build),
    env: childEnvironment({
      ...launch.env, NATS_URL: launch.natsUrl, HTTP_PORT: String(instance.port),
      // Replicas share the role's service name in traces; the instance tells them apart elsewhere.
      INSTANCE_ID: instance.name, OTEL_SERVICE_NAME: role.name,
      ...roleCredentials(role.name, launch.passwords, launch.adminApi),
      ...instance.env,
    }),
    logFile,
    restart: true,
    ownSession: launch.ownSession,
  }, {
    onExit: (p, how, willRestart) => {
      entry.ready = false;
      launch.exited(`${p.spec.name} ${how}${willRestart ? '; restarting' : ''} (log: ${p.spec.logFile})`);
    },
  });
  const entry: RoleProcess = { instance, proc, ready: false };
  proc.start();
  return entry;
}

/** A role's NATS user and password when this supervisor runs its own (authenticated) NATS. The
 * admin API (served by the autoscaler when enabled) does what the `tps` command does, so it runs as
 * the operator. */
function roleCredentials(role: string, passwords: Passwords | undefined, adminApi: boolean): Record<string, string> {
  const user = role === 'autoscaler' && adminApi ? 'operator' : roleUsers[role];
  if (!passwords || !user) return {};
  return { NATS_USER: user, NATS_PASSWORD: passwords[user] };
}
