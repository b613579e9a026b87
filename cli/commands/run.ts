import { loadConfig } from '#platform/config.ts';
import { startMemoryAtRest } from '#platform/memory-at-rest.ts';
import { runRole } from '#platform/role-runtime.ts';
import { findRole, roleNames, roles } from '#services/registry.ts';
import { UsageError, parseFlags } from '../output.ts';
import { z } from 'zod';

export const help = `
usage: tps run <role>

Runs one role in the foreground until SIGTERM or Ctrl-C, logging JSON to stdout.
Configuration comes from the environment (see docs/configuration.md). Tracing is on when
OTEL_EXPORTER_OTLP_ENDPOINT is set (e.g. http://127.0.0.1:4318, Jaeger); see docs/tracing.md.

Roles:
${Object.values(roles).map((r) => `  ${r.name.padEnd(12)} ${r.description} (port ${r.port})`).join('\n')}
`;

export async function main(argv: string[]): Promise<number> {
  const { positionals } = parseFlags(argv, {}, z.object({}), { positionals: true });
  const [name, ...extra] = positionals;
  if (!name) throw new UsageError(`which role? One of: ${roleNames.join(', ')}`);
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const role = findRole(name);
  if (!role) throw new UsageError(`unknown role "${name}"; roles are: ${roleNames.join(', ')}`);
  const config = loadConfig();
  const { ctx } = await runRole(role, config);
  // One per process (not per role: tests run several roles in one process).
  const atRest = startMemoryAtRest({ onReduced: (reduced) => ctx.logger.debug(reduced, 'at rest: memory given back') });
  await ctx.lifecycle.stopped;
  atRest.stop();
  return process.exitCode === undefined ? 0 : Number(process.exitCode);
}
