import { z } from 'zod';
import { loadConfig } from '#platform/config.ts';
import { stateDir } from '#platform/paths.ts';
import { roles } from '#services/registry.ts';
import { startSupervisor } from '#operator/supervisor/supervisor.ts';
import { clearState, isAlive, readState } from '#operator/supervisor/state-file.ts';
import { CommandError, parseFlags } from '../output.ts';

export const help = `
usage: tps supervise

Runs the native supervisor in the foreground: starts its own nats-server (another only with
TPS_EXTERNAL_NATS=true; see \`tps up --help\`), provisions the topology, starts every role
(WORKERS_FAST / WORKERS_SLOW worker processes per pool), restarts crashed roles, and stops
everything it started on Ctrl-C or SIGTERM. \`tps up\` runs this in the background; use this to
watch it. Logs and state go to .tps/ (TPS_STATE_DIR).
`;

export async function main(argv: string[]): Promise<number> {
  parseFlags(argv, {}, z.object({}));
  const config = loadConfig();
  const dir = stateDir(config.stateDir);
  const previous = readState(dir);
  if (previous && previous.pid !== process.pid && isAlive(previous.pid) && previous.phase !== 'stopped' && previous.phase !== 'failed') {
    throw new CommandError(`TPS Lab is already running (supervisor pid ${previous.pid}). Use \`tps down\` first.`);
  }
  clearState(dir);
  const say = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);
  const supervisor = await startSupervisor(config, Object.values(roles), say);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void supervisor.stop(signal); });
  await supervisor.stopped;
  return 0;
}
