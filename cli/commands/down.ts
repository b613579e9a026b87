import { z } from 'zod';
import { loadConfig } from '#platform/config.ts';
import { stateDir } from '#platform/paths.ts';
import { stopWhatWasLeft } from '#operator/supervisor/leftovers.ts';
import { isAlive, sameProcess } from '#operator/supervisor/process-stamp.ts';
import { readState, writeState, type SupervisorState } from '#operator/supervisor/state-file.ts';
import { CommandError, parseFlags } from '../output.ts';

export const help = `
usage: tps down [--timeout <seconds>]

Stops everything \`tps up\` started (roles, and nats-server if it started one), in order: the
ingress first, then the workers drain, then the services. Leaves alone anything it did not start.
When the supervisor itself was killed (kill -9, the OOM killer), stops what it left running: the
processes it started, each known by the supervisor's stamp (never by a pid alone), roles first.

  --timeout <s>   how long to wait before giving up (default 60)
`;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { timeout: { type: 'string' } }, z.object({ timeout: z.coerce.number().int().min(1).max(3600).default(60) }));
  const config = loadConfig();
  const dir = stateDir(config.stateDir);
  const state = readState(dir);
  if (!state || state.phase === 'stopped' || !sameProcess(state.pid, state.stamp)) {
    if (!state || !(await stopWhatWasLeft(state, config.shutdownGraceMs + 5_000, (line) => console.log(line), 'the supervisor'))) {
      console.log('TPS Lab is not running; nothing to stop.');
      return 0;
    }
    writeState(dir, markStopped(state));
    console.log('stopped.');
    return 0;
  }
  console.log(`stopping TPS Lab (supervisor pid ${state.pid})...`);
  process.kill(state.pid, 'SIGTERM');
  const deadline = Date.now() + values.timeout * 1000;
  while (isAlive(state.pid)) {
    if (Date.now() > deadline) throw new CommandError(`the supervisor (pid ${state.pid}) did not stop within ${values.timeout} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const after = readState(stateDir(config.stateDir));
  for (const p of after?.processes ?? []) console.log(`  ${p.name.padEnd(13)} ${p.state}`);
  if (after?.nats.managed) console.log('  nats-server  stopped');
  console.log('stopped.');
  return 0;
}

function markStopped(state: SupervisorState): SupervisorState {
  return { ...state, phase: 'stopped', processes: state.processes.map((p) => ({ ...p, state: 'stopped', ready: false })) };
}
