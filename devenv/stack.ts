// The whole pipeline for a test: every role as its own process (the native supervisor starts
// them), on ports free on this machine, against the test's own nats-server: one the test started
// and shares on purpose (it reads and writes it directly; TPS_EXTERNAL_NATS), or, when nothing
// answers at the URL, the supervisor's own there, with the per-role users.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { loadConfig } from '#platform/config.ts';
import { openChaosStore, type ChaosStore } from '#platform/chaos/store.ts';
import { operatorEnvFile } from '#platform/nats/credentials.ts';
import { openJobStatusStore, type JobStatusStore, type JobView } from '#platform/job-status.ts';
import { poolNames } from '#platform/pools.ts';
import { defaultPorts, workerReplicaPort } from '#platform/ports.ts';
import { roles } from '#services/registry.ts';
import { portFree } from '#operator/supervisor/port-free.ts';
import { answers, hostPort } from '#operator/supervisor/broker.ts';
import { startSupervisor, type Supervisor } from '#operator/supervisor/supervisor.ts';
import { waitFor } from './nats-server.ts';
import { postJob } from './roles.ts';
import { describeStuckJobs } from './stuck-jobs.ts';
import { candidateOffsets, claimOffset } from './port-offsets.ts';

export type Stack = {
  natsUrl: string;
  /** The supervisor's state folder (TPS_STATE_DIR for `tps` commands against this stack). */
  stateDir: string;
  nc: NatsConnection;
  chaos: ChaosStore;
  status: JobStatusStore;
  url(role: keyof typeof defaultPorts): string;
  supervisor: Supervisor;
  log(role: string): string;
  stop(): Promise<void>;
};

/** The ports of a few more worker replicas, for tests that run WORKERS_FAST / WORKERS_SLOW > 1. */
const replicaPorts = poolNames.flatMap((pool) => [2, 3, 4].map((replica) => workerReplicaPort(pool, replica)));

/** An offset whose ports are free and that no other live test process has claimed (port-offsets.ts). */
export async function freeOffset(): Promise<number> {
  for (const candidate of candidateOffsets()) {
    const free = await Promise.all([...Object.values(defaultPorts), ...replicaPorts].map((port) => portFree(port + candidate)));
    if (free.every(Boolean) && claimOffset(candidate)) return candidate;
  }
  throw new Error('no free set of role ports below the ephemeral range');
}

/** The console reads every other role and nothing waits on it: only the tests that look at it start it (a process less per stack). */
export type StackOptions = { console?: boolean };

export async function startStack(natsUrl: string, env: Record<string, string> = {}, opts: StackOptions = {}): Promise<Stack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-stack-'));
  const offset = await freeOffset();
  // Prometheus only where a test asks for it (TPS_MONITORING=auto): it is not free on 2 cores.
  // A cluster's nodes come comma-separated (devenv/nats-cluster.ts): any one tells whether NATS runs.
  const { host, port } = hostPort(natsUrl.split(',')[0] ?? natsUrl);
  const shared: Record<string, string> = (await answers(host, port)) ? { TPS_EXTERNAL_NATS: 'true' } : {};
  const childEnv = { LOG_LEVEL: 'info', TPS_STATE_DIR: dir, TPS_PORT_OFFSET: String(offset), TPS_MONITORING: 'off', ...shared, ...env };
  const config = loadConfig({ NATS_URL: natsUrl, ...childEnv });
  const lines: string[] = [];
  const started = Object.values(roles).filter((role) => role.name !== 'console' || opts.console);
  // Its processes in the test's process group: a Ctrl-C of the test run ends them too.
  const supervisor = await startSupervisor(config, started, (line) => lines.push(line), { childEnv, sharedProcessGroup: true });
  // When the supervisor started its own nats-server, the test acts as the operator user.
  const operator = readOperatorEnv(dir);
  const nc = await connect({ servers: natsUrl.split(','), maxReconnectAttempts: -1, reconnectTimeWait: 250, ...operator });
  return {
    natsUrl,
    stateDir: dir,
    nc,
    chaos: await openChaosStore(nc),
    status: await openJobStatusStore(nc),
    url: (role) => `http://127.0.0.1:${defaultPorts[role] + offset}`,
    supervisor,
    log: (role) => { try { return readFileSync(path.join(dir, 'logs', `${role}.log`), 'utf8'); } catch { return ''; } },
    async stop() {
      await supervisor.stop('test done');
      await nc.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function readOperatorEnv(dir: string): { user?: string; pass?: string } {
  try {
    const env = Object.fromEntries(readFileSync(operatorEnvFile(dir), 'utf8').trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
    return { user: env.NATS_USER, pass: env.NATS_PASSWORD };
  } catch {
    return {};
  }
}

/** Submits jobs, retrying refusals (as a well-behaved client would); returns the accepted ids. */
export async function submit(stack: Stack, type: string, count: number, payload?: Record<string, unknown>): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = await postJob(stack.url('ingress'), payload ? { type, payload } : { type });
    if (r.status === 202) ids.push(String(r.json.id));
  }
  return ids;
}

/** The loss oracle: waits until every accepted id is completed or dead-lettered (a pass every 250 ms);
 * when it gives up, it says where the jobs still open are (stuck-jobs.ts). */
export async function settle(stack: Stack, ids: readonly string[], timeoutMs = 60_000): Promise<Map<string, JobView>> {
  const views = new Map<string, JobView>();
  const open = () => ids.filter((id) => !['completed', 'dead_lettered'].includes(views.get(id)?.status ?? ''));
  try {
    // Each read folds the key's history through a short-lived consumer: every 20 ms for a minute
    // left thousands for nats-server to carry (and to recover, slowly, at its next start).
    await waitFor(async () => {
      for (const id of open()) {
        const view = await stack.status.read(id).catch(() => undefined);
        if (view) views.set(id, view);
      }
      return open().length === 0 ? true : undefined;
    }, timeoutMs, () => `${open().length} of ${ids.length} jobs to finish (e.g. ${open().slice(0, 3).map((id) => `${id}: ${views.get(id)?.status ?? 'unknown'}`).join(', ')})`, 250);
  } catch (err) {
    const where = await describeStuckJobs(stack.nc, stack.log, open(), views).catch((e: unknown) => `(could not say where: ${(e as Error).message})`);
    throw new Error(`${(err as Error).message}\n${where}`);
  }
  return views;
}

export async function metricValue(url: string, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    if (pattern.test(line)) total += Number(line.split(' ')[1] ?? 0);
  }
  return total;
}

/** Sets a fault and waits until the target process reports it in force (it travels by a KV watch). */
export async function injectFault(stack: Stack, input: { target: keyof typeof defaultPorts; fault: string; params?: Record<string, unknown>; durationMs?: number }): Promise<void> {
  await stack.chaos.set(input, 'test');
  const gauge = new RegExp(`^tps_chaos_fault_active\\{target="${input.target}",fault="${input.fault}"\\} 1\\b`);
  await waitFor(async () => ((await metricValue(stack.url(input.target), gauge)) === 1 ? true : undefined), 10_000, () => `${input.target} to apply ${input.fault}`);
}

/** The DLQ stream's entries as they are now, by sequence. */
export async function dlqSequences(nc: NatsConnection): Promise<number[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info('DLQ');
  const seqs: number[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    if (await jsm.streams.getMessage('DLQ', { seq }).catch(() => null)) seqs.push(seq);
  }
  return seqs;
}
