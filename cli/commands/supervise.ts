import { z } from 'zod';
import { loadConfig } from '#platform/config.ts';
import { stateDir } from '#platform/paths.ts';
import { roles } from '#services/registry.ts';
import { startSupervisor } from '#operator/supervisor/supervisor.ts';
import { stopWhatWasLeft } from '#operator/supervisor/leftovers.ts';
import { sameProcess } from '#operator/supervisor/process-stamp.ts';
import { clearState, readState } from '#operator/supervisor/state-file.ts';
import { CommandError, parseFlags } from '../output.ts';

export const help = `
usage: tps supervise [--ready-timeout <seconds>]

Runs the native supervisor in the foreground: starts its own nats-server (another only with
TPS_EXTERNAL_NATS=true; see \`tps up --help\`), provisions the topology, starts every role
(WORKERS_FAST / WORKERS_SLOW worker processes per pool), restarts crashed roles, and stops
everything it started, in order (the roles drain, then nats-server), on Ctrl-C, SIGTERM or its
terminal closing (SIGHUP); the processes it starts do not get the terminal's signals themselves.
\`tps up\` runs this in the background; use this to watch it. Logs and state go to .tps/
(TPS_STATE_DIR).

  --ready-timeout <s>  how long the roles get to answer /readyz, at start and when a replica is
                       added (default 60, or NATS_CONNECT_TIMEOUT_MS plus 10 s when longer;
                       \`tps up --timeout\` passes its own)
`;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { 'ready-timeout': { type: 'string' } },
    z.object({ 'ready-timeout': z.coerce.number().int().min(1).max(3600).optional() }));
  const config = loadConfig();
  const dir = stateDir(config.stateDir);
  const previous = readState(dir);
  if (previous && previous.pid !== process.pid && sameProcess(previous.pid, previous.stamp) && previous.phase !== 'stopped' && previous.phase !== 'failed') {
    throw new CommandError(`TPS Lab is already running (supervisor pid ${previous.pid}). Use \`tps down\` first.`);
  }
  const say = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);
  // A supervisor killed outright left its processes on their ports: stopped first, or nothing could start.
  await stopWhatWasLeft(previous, config.shutdownGraceMs + 5_000, say);
  clearState(dir);
  // A signal while starting (`tps up` gives up, or Ctrl-C) stops what has started, as one after.
  const starting = new AbortController();
  let supervisor: Awaited<ReturnType<typeof startSupervisor>> | undefined;
  // SIGHUP: the terminal of `tps up --foreground` closed. Its processes, each in a session of its
  // own (managed-process.ts), hear of it only through this stop.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => (supervisor ? void supervisor.stop(signal) : starting.abort(signal)));
  supervisor = await startSupervisor(config, Object.values(roles), say, {
    signal: starting.signal, ...(values['ready-timeout'] ? { readyTimeoutMs: values['ready-timeout'] * 1000 } : {}),
  });
  if (starting.signal.aborted) void supervisor.stop(String(starting.signal.reason));
  await supervisor.stopped;
  return 0;
}
