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
 * with `port`, it listens there (e.g. where `tps up` would put its own) instead of a free port. */
export async function startNatsServer(opts: { passwords?: Passwords; port?: number } = {}): Promise<NatsServerHandle> {
  const binary = findNatsServer();
  const root = mkdtempSync(path.join(os.tmpdir(), 'tps-nats-'));
  const storeDir = path.join(root, 'store');
  const portsDir = path.join(root, 'ports');
  let port = opts.port ?? 0;
  let monitorPort = 0;
  let child: ChildProcess | undefined;
  let stderr = '';
  const configFile = path.join(root, 'nats.conf');
  let users: ServerUsers | undefined;
  /** What the running server was started with: a reload must change nothing but the users. */
  let serverConfig: ServerConfigOptions | undefined;
  let reloads = 0;
  const writeConfig = (base: ServerConfigOptions) => writeFileSync(configFile, renderServerConfig({ ...base, ...(users ? { users } : {}) }));

  async function start(): Promise<void> {
    let args = ['-js', '-sd', storeDir, '-a', '127.0.0.1', '-p', String(port || -1), '-m', String(monitorPort || -1)];
    if (opts.passwords) {
      serverConfig = { listen: `127.0.0.1:${port || -1}`, monitor: `127.0.0.1:${monitorPort || -1}`, storeDir, passwords: opts.passwords };
      writeConfig(serverConfig);
      args = ['-c', configFile];
    }
    args.push('--ports_file_dir', portsDir);
    stderr = '';
    rmSync(portsDir, { recursive: true, force: true });
    mkdirSync(portsDir, { recursive: true });
    child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (d: Buffer) => {
      if (d.includes('Reloaded server configuration')) reloads += 1;
      stderr = (stderr + d.toString()).slice(-4000);
    });
    try {
      const ports = await waitFor(() => readPortsFile(portsDir), 10_000, () => `nats-server to start: ${stderr}`);
      port = ports.port;
      monitorPort = ports.monitorPort;
      await waitFor(async () => ((await canConnect(port)) ? true : undefined), 10_000, () => 'nats-server to accept');
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  }

  async function stop({ hard = false } = {}): Promise<void> {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(hard ? 'SIGKILL' : 'SIGTERM');
    await exited;
  }

  async function reload(next?: ServerUsers): Promise<void> {
    if (!serverConfig || !child) throw new Error('reload() needs a running server started with passwords');
    users = next;
    writeConfig(serverConfig);
    const before = reloads;
    child.kill('SIGHUP');
    await waitFor(() => (reloads > before ? true : undefined), 10_000, () => `nats-server to reload its configuration: ${stderr}`);
  }

  await start();
  return {
    get url() { return `nats://127.0.0.1:${port}`; },
    get port() { return port; },
    get monitorPort() { return monitorPort; },
    storeDir,
    log: () => stderr,
    stop,
    start,
    reload,
    async dispose() {
      await stop({ hard: true });
      rmSync(root, { recursive: true, force: true });
    },
  };
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

/** Polls until `probe` returns a value, or throws after `timeoutMs`. */
export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, message: () => string = () => 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${message()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
