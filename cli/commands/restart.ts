import { z } from 'zod';
import { loadConfig } from '#platform/config.ts';
import { stateDir } from '#platform/paths.ts';
import { publishAuditEvent } from '#platform/nats/audit-events.ts';
import { roleNames } from '#platform/roles.ts';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '#platform/nats/connect.ts';
import { restartRole, RestartRefused, type Restarted } from '#operator/supervisor/restart-role.ts';
import { CommandError, parseFlags, UsageError } from '../output.ts';
import { operator, withNats } from '../session.ts';

export const help = `
usage: tps restart <role> [--reason "..."]

Restarts a role natively, one process (replica) after another: each is stopped with SIGTERM (a
worker stops pulling and finishes or hands back its jobs), the supervisor starts it again, and the
next one goes only once this one is ready again, so the role keeps serving. Recorded as an audit
event (tps.events.control.restart: who, which role, why). It frees what a long-running process
holds: a leaking worker's memory (the Level 3 exam's 6 PM failure).

In compose, \`bin/tps restart <role>\` on the host restarts the role's containers (\`docker compose
restart\`: each drains on SIGTERM as natively, all replicas at once), waits until they are healthy
and records the same event (through the tools container, with --recorded: the restart is done).

Roles: ${roleNames.join(', ')}

Examples:
  tps restart worker-slow --reason "RSS climbing 40 MB/min: a leak"
`;

/** The audit event of a restart (tps.events.control.restart), whoever did the restarting. */
export function recordRestart(nc: NatsConnection, role: string, processes: readonly string[], by: string, reason?: string): Promise<boolean> {
  return publishAuditEvent(jetstream(nc), 'control.restart', by, { role, processes: [...processes], ...(reason ? { reason } : {}) }).then(Boolean);
}

/** Restarts the role's processes one after another and records the audit event. */
export async function restartRecorded(nc: NatsConnection, role: string, by: string, reason?: string, progress?: (line: string) => void): Promise<Restarted[]> {
  const config = loadConfig();
  let restarted: Restarted[];
  try {
    restarted = await restartRole(stateDir(config.stateDir), role, { timeoutMs: config.shutdownGraceMs + 60_000, ...(progress ? { progress } : {}) });
  } catch (err) {
    if (err instanceof RestartRefused) throw new CommandError(`${err.message}; in compose: docker compose restart ${role}`, { cause: err });
    throw err;
  }
  const stored = await recordRestart(nc, role, restarted.map((r) => r.name), by, reason);
  if (!stored) console.error('warning: the restart is done, but its audit event could not be stored');
  return restarted;
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { reason: { type: 'string' }, recorded: { type: 'boolean' } }, z.object({ reason: z.string().min(1).max(200).optional(), recorded: z.boolean().optional() }), { positionals: true });
  const [role, ...extra] = positionals;
  if (!role) throw new UsageError(`which role? One of: ${roleNames.join(', ')}`);
  if (extra.length > 0) throw new UsageError('one role at a time: tps restart <role>');
  if (!(roleNames as readonly string[]).includes(role)) throw new UsageError(`unknown role "${role}"; roles are: ${roleNames.join(', ')}`);
  if (values.recorded) {
    // bin/tps in compose restarted the containers (scripts/compose.sh restart): the event only.
    const stored = await withNats('restart', ({ nc }) => recordRestart(nc, role, [role], operator(), values.reason));
    if (!stored) throw new CommandError(`${role} was restarted, but its audit event could not be stored`);
    console.log(`${role}: restart recorded`);
    return 0;
  }
  if (loadConfig().operator.targets) throw new CommandError(`in compose a restart runs on the host: bin/tps restart ${role}`);
  const restarted = await withNats('restart', ({ nc }) => restartRecorded(nc, role, operator(), values.reason, (line) => console.log(line)));
  console.log(`${role}: ${restarted.length} process${restarted.length === 1 ? '' : 'es'} restarted`);
  return 0;
}
