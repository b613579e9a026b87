// Starts a real nats-server with JetStream for one test file: free port, temp store, stopped at
// the end. Never the server already running on 4222.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Passwords } from '#platform/nats/credentials.ts';
import { natsUsers, type NatsPermissions, type NatsUserName } from '#platform/nats/permissions.ts';
import { renderServerConfig, type ServerConfigOptions } from '#platform/nats/server-config.ts';
import { findNatsServer } from '#platform/nats/server-binary.ts';

export type NatsServerHandle = {
  url: string;
  port: number;
  monitorPort: number;
  /** The running server's process id (a benchmark reads its CPU time). */
  readonly pid: number | undefined;
  storeDir: string;
  /** Stops the server (SIGTERM, or SIGKILL with hard) and waits for it to exit. */
  stop(opts?: { hard?: boolean }): Promise<void>;
  /** Starts it again on the same ports with the same store. */
  start(): Promise<void>;
  /** Stops and deletes the store. */
  dispose(): Promise<void>;
  /** The last few KB the server wrote to stderr (its log). */
  log(): string;
  /**
   * Gives the per-role users these permissions (the real ones when omitted) the way an operator
   * would: rewrites nats.conf and sends SIGHUP; resolves once the server has reloaded it.
   * Connections stay open and get the new permissions. Needs a server started with `passwords`.
   */
  reload(users?: ServerUsers): Promise<void>;
};

export type ServerUsers = Readonly<Record<NatsUserName, NatsPermissions>>;

/** The per-role users of permissions.ts with some publish rights taken from one of them. */
export function usersWithout(user: NatsUserName, ...subjects: string[]): ServerUsers {
  const p = natsUsers[user];
  return { ...natsUsers, [user]: { ...p, publish: p.publish.filter((s) => !subjects.includes(s)) } };
}

/** With `passwords`, the server has the per-role users and permissions of native mode and compose;
 * with `port`, it listens there (e.g. where `tps up` would put its own) instead of a free port;
 * with `storeDir`, it keeps its JetStream store there (e.g. on a crash disk, crash-disk.ts). */
export async function startNatsServer(opts: { passwords?: Passwords; port?: number; storeDir?: string } = {}): Promise<NatsServerHandle> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'tps-nats-'));
  const server: ServerProcess = {
    binary: findNatsServer(),
    passwords: opts.passwords,
    storeDir: opts.storeDir ?? path.join(root, 'store'),
    portsDir: path.join(root, 'ports'),
    configFile: path.join(root, 'nats.conf'),
    port: opts.port ?? 0,
    monitorPort: 0,
    stderr: '',
    reloads: 0,
  };
  const stop = ({ hard = false } = {}) => stopServer(server, hard);
  await startServer(server);
  return {
    get url() { return `nats://127.0.0.1:${server.port}`; },
    get port() { return server.port; },
    get monitorPort() { return server.monitorPort; },
    get pid() { return server.child?.pid; },
    storeDir: server.storeDir,
    log: () => server.stderr,
    stop,
    start: () => startServer(server),
    reload: (next) => reloadUsers(server, next),
    async dispose() {
      await stop({ hard: true });
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** One test's server: where it keeps its files, and what its current process is and said. */
type ServerProcess = {
  readonly binary: string;
  readonly passwords: Passwords | undefined;
  readonly storeDir: string;
  /** Where the server writes the ports it listens on (it picks free ones the first time). */
  readonly portsDir: string;
  readonly configFile: string;
  port: number;
  monitorPort: number;
  child?: ChildProcess;
  /** The last few KB of its log. */
  stderr: string;
  /** "Reloaded server configuration" lines seen, to tell when a SIGHUP has taken effect. */
  reloads: number;
  users?: ServerUsers | undefined;
  /** What the running server was started with: a reload must change nothing but the users. */
  serverConfig?: ServerConfigOptions;
};

async function startServer(s: ServerProcess): Promise<void> {
  s.stderr = '';
  rmSync(s.portsDir, { recursive: true, force: true });
  mkdirSync(s.portsDir, { recursive: true });
  const child = spawn(s.binary, serverArgs(s), { stdio: ['ignore', 'ignore', 'pipe'] });
  s.child = child;
  child.stderr?.on('data', (d: Buffer) => {
    if (d.includes('Reloaded server configuration')) s.reloads += 1;
    s.stderr = (s.stderr + d.toString()).slice(-4000);
  });
  try {
    const ports = await waitFor(() => readPortsFile(s.portsDir), 10_000, () => `nats-server to start: ${s.stderr}`);
    s.port = ports.port;
    s.monitorPort = ports.monitorPort;
    await waitFor(async () => ((await canConnect(s.port)) ? true : undefined), 10_000, () => 'nats-server to accept');
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

/** Flags alone, or with `passwords` a config file (the users need one); ports 0 mean "pick free ones". */
function serverArgs(s: ServerProcess): string[] {
  let args = ['-js', '-sd', s.storeDir, '-a', '127.0.0.1', '-p', String(s.port || -1), '-m', String(s.monitorPort || -1)];
  if (s.passwords) {
    s.serverConfig = { listen: `127.0.0.1:${s.port || -1}`, monitor: `127.0.0.1:${s.monitorPort || -1}`, storeDir: s.storeDir, passwords: s.passwords };
    writeConfig(s, s.serverConfig);
    args = ['-c', s.configFile];
  }
  args.push('--ports_file_dir', s.portsDir);
  return args;
}

function writeConfig(s: ServerProcess, base: ServerConfigOptions): void {
  writeFileSync(s.configFile, renderServerConfig({ ...base, ...(s.users ? { users: s.users } : {}) }));
}

async function stopServer(s: ServerProcess, hard: boolean): Promise<void> {
  const proc = s.child;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill(hard ? 'SIGKILL' : 'SIGTERM');
  await exited;
}

async function reloadUsers(s: ServerProcess, next: ServerUsers | undefined): Promise<void> {
  if (!s.serverConfig || !s.child) throw new Error('reload() needs a running server started with passwords');
  s.users = next;
  writeConfig(s, s.serverConfig);
  const before = s.reloads;
  s.child.kill('SIGHUP');
  await waitFor(() => (s.reloads > before ? true : undefined), 10_000, () => `nats-server to reload its configuration: ${s.stderr}`);
}

function readPortsFile(dir: string): { port: number; monitorPort: number } | undefined {
  let files: string[];
  try { files = readdirSync(dir).filter((f) => f.endsWith('.ports')); } catch { return undefined; }
  if (files.length === 0) return undefined;
  try {
    const info = JSON.parse(readFileSync(path.join(dir, files[0] ?? ''), 'utf8')) as { nats: string[]; monitoring?: string[] };
    const port = Number(new URL(info.nats[0] ?? '').port);
    const monitorPort = Number(new URL(info.monitoring?.[0] ?? 'http://x:0').port);
    return port ? { port, monitorPort } : undefined;
  } catch { return undefined; }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Polls until `probe` returns a value, or throws after `timeoutMs`. With `intervalMs`, that long
 * between tries; without, 20 ms at first, then half as long again each try up to 250 ms: a quick
 * condition is seen at once, and a long wait (a lab's timeline, a breaker's reset) does not poll a
 * role's /metrics fifty times a second for minutes, which on 2 cores slowed every test beside it.
 */
export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, message: () => string = () => 'condition', intervalMs?: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let pause = intervalMs ?? 20;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${message()}`);
    await new Promise((resolve) => setTimeout(resolve, pause));
    if (intervalMs === undefined) pause = Math.min(250, Math.ceil(pause * 1.5));
  }
}
