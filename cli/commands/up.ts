import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { childEnvironment, loadConfig } from '#platform/config.ts';
import { cliEntry, stateDir } from '#platform/paths.ts';
import { grafanaLoginLine } from '#operator/supervisor/grafana-settings.ts';
import { stopWhatWasLeft } from '#operator/supervisor/leftovers.ts';
import { isAlive } from '#operator/supervisor/process-stamp.ts';
import { clearState, readState, supervisorRunning, type SupervisorState } from '#operator/supervisor/state-file.ts';
import { CommandError, parseFlags } from '../output.ts';

export const help = `
usage: tps up [--foreground] [--timeout <seconds>]

Starts TPS Lab natively, without Docker: its own nats-server with a user per role, the
topology, and every role, each restarted if it crashes. Returns once everything is ready and
prints the URLs; \`tps down\` stops it all. Logs: .tps/logs/<process>.log. Tracing is on when
a Jaeger (OTLP/HTTP receiver) answers at 127.0.0.1:4318 or OTEL_* says so (docs/tracing.md).

Worker processes per pool: WORKERS_FAST and WORKERS_SLOW (1-8, default 1), e.g.
\`WORKERS_FAST=3 tps up\` or \`make up WORKERS_FAST=3\`: worker-fast, worker-fast-2, worker-fast-3,
all pulling from the one consumer workers-fast, each with its own metrics port (9464, 9472, 9473;
plus TPS_PORT_OFFSET). \`tps scale <pool> --replicas <n>\` changes the count while it runs.

NATS: on 127.0.0.1:4222 (plus TPS_PORT_OFFSET), or on a free port when that one is taken; with
NATS_URL set, exactly there or not at all. It never adopts a server it did not start: to use one
(e.g. without authentication), set TPS_EXTERNAL_NATS=true; tps up and tps status then warn.
TPS_NATS=cluster (\`make up NATS=cluster\`): three nats-servers as one cluster (4222-4224), three
copies of every stream and bucket: losing one node loses no queue (docs/nats-cluster.md).

  --foreground       stay attached; Ctrl-C stops everything (same as \`tps supervise\`)
                     (without it, Ctrl-C while the roles start cancels the start: what has
                     started is stopped, and tps up exits with status 130)
  --timeout <s>      how long to wait for every role to be ready (default 60)
`;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { foreground: { type: 'boolean' }, timeout: { type: 'string' } },
    z.object({ foreground: z.boolean().optional(), timeout: z.coerce.number().int().min(1).max(3600).optional() }));
  // Only a timeout asked for goes to the supervisor: its default also covers a long NATS_CONNECT_TIMEOUT_MS.
  const readyTimeout = values.timeout ? ['--ready-timeout', String(values.timeout)] : [];
  if (values.foreground) return (await import('./supervise.ts')).main(readyTimeout);
  const config = loadConfig();
  const dir = stateDir(config.stateDir);
  const current = readState(dir);
  if (supervisorRunning(current)) {
    console.log(`TPS Lab is already running (supervisor pid ${current.pid}).`);
    printUrls(current, dir, config.grafana);
    return 0;
  }
  await stopWhatWasLeft(current, config.shutdownGraceMs + 5_000, (line) => console.log(line));
  clearState(dir);
  mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const logFile = path.join(dir, 'logs', 'supervisor.log');
  const fd = openSync(logFile, 'w');
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', cliEntry, 'supervise', ...readyTimeout], {
    detached: true, stdio: ['ignore', fd, fd], env: childEnvironment({}),
  });
  closeSync(fd);
  child.unref();
  console.log(`starting TPS Lab (supervisor pid ${child.pid}, log ${path.relative(process.cwd(), logFile) || logFile})`);
  // Ctrl-C while it starts cancels the start: the supervisor (detached, so the terminal's signal
  // does not reach it) is asked to stop what it has started, and this command waits for that.
  // A second Ctrl-C leaves at once; the supervisor goes on stopping.
  const cancel = new AbortController();
  process.once('SIGINT', () => cancel.abort());
  const state = await follow(logFile, dir, child.pid ?? 0, (values.timeout ?? 60) * 1000, cancel.signal);
  if (state === 'cancelled') {
    console.error('tps: start cancelled (Ctrl-C); everything it had started is stopped.');
    return 130;
  }
  printUrls(state, dir, config.grafana);
  return 0;
}

/** Echoes the supervisor's progress lines until it is running, has failed, the time is up, or the start is cancelled and the supervisor has ended. */
async function follow(logFile: string, dir: string, pid: number, timeoutMs: number, cancel: AbortSignal): Promise<SupervisorState | 'cancelled'> {
  const deadline = Date.now() + timeoutMs;
  let printed = 0;
  let stopping = false;
  const echo = () => {
    if (statSync(logFile).size <= printed) return;
    const text = readFileSync(logFile).subarray(printed).toString('utf8');
    const complete = text.lastIndexOf('\n') + 1;
    for (const line of text.slice(0, complete).split('\n').slice(0, -1)) console.log(`  ${line}`);
    printed += Buffer.byteLength(text.slice(0, complete));
  };
  for (;;) {
    echo();
    if (cancel.aborted) {
      if (!isAlive(pid)) {
        echo();
        return 'cancelled';
      }
      if (!stopping) {
        console.log('  Ctrl-C: stopping what has started (Ctrl-C again leaves it stopping in the background)');
        process.kill(pid, 'SIGTERM');
        stopping = true;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    const read = readState(dir);
    const state = read?.pid === pid ? read : undefined;
    if (state?.phase === 'running') return state;
    if (!isAlive(pid) || state?.phase === 'failed' || state?.phase === 'stopped') {
      // A failed start is reported once the supervisor has stopped what it started and said why
      // (its last line, echoed first), within the time given.
      if (isAlive(pid) && Date.now() <= deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      echo();
      const why = state?.error ? `: ${state.error.replace(/[.?!]$/, '')}` : '';
      throw new CommandError(`TPS Lab did not start${why}. See ${logFile}.`);
    }
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGTERM');
      throw new CommandError(`TPS Lab was not ready within ${timeoutMs / 1000} s; stopped it. See ${logFile} and the other logs beside it.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The Grafana password goes to the terminal only, never into the state file or a log. */
function printUrls(state: SupervisorState, dir: string, grafana: Parameters<typeof grafanaLoginLine>[1]): void {
  console.log('');
  console.log(`NATS         ${state.nats.url}${state.nats.managed ? ' (started by tps up)' : ' (not started by tps up; left alone)'}`);
  if (state.nats.warning) console.log(state.nats.warning);
  if (state.nats.monitorUrl) console.log(`NATS monitor ${state.nats.monitorUrl}`);
  const width = Math.max(12, ...state.processes.map((p) => p.name.length));
  for (const p of state.processes) console.log(`${p.name.padEnd(width)} ${p.url ?? ''}${p.name === 'grafana' ? `  ${grafanaLoginLine(dir, grafana)}` : ''}`);
  for (const note of state.notes) console.log(note);
  console.log('');
  const ingress = state.processes.find((p) => p.name === 'ingress')?.url ?? 'http://127.0.0.1:8080';
  console.log(`Try:  curl -XPOST ${ingress}/jobs -H 'content-type: application/json' -d '{"type":"fast.echo"}'`);
  // The logs are where TPS_STATE_DIR puts them (.tps by default), said as the user would type it.
  console.log(`Stop: make down   (logs in ${path.relative(process.cwd(), path.join(dir, 'logs')) || '.'}/)`);
}
