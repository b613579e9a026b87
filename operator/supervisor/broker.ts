// NATS for native mode: its own nats-server with the per-role users of permissions.ts, never a
// server that happens to answer at NATS_URL (one without users would let any local process publish
// jobs, purge the DLQ or set faults). Another server is used only when TPS_EXTERNAL_NATS says so,
// and then with a warning. Only a server it started is stopped again.
import net from 'node:net';
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Config } from '#platform/config.ts';
import { generatePasswords, operatorEnvFile, writeOperatorEnv, writeSecret, type Passwords } from '#platform/nats/credentials.ts';
import { renderServerConfig } from '#platform/nats/server-config.ts';
import { findNatsServer } from '#platform/nats/server-binary.ts';
import { manage, type ManagedProcess } from './managed-process.ts';
import { anyFreePort, portFree } from './port-free.ts';
import { startOwnCluster } from './broker-cluster.ts';

export type Broker = {
  url: string; managed?: ManagedProcess; monitorUrl?: string; passwords?: Passwords;
  /** Why this NATS is not the safe default (TPS_EXTERNAL_NATS): shown by `tps up` and `tps status`. */
  warning?: string;
  /** Why its own server listens somewhere else than the default port. */
  note?: string;
};
type BrokerOptions = { stateDir: string; monitorPort: number; ownSession: boolean };

const loopback = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function hostPort(url: string): { host: string; port: number } {
  const parsed = new URL(url.includes('://') ? url : `nats://${url}`);
  return { host: parsed.hostname, port: Number(parsed.port || 4222) };
}

/** The INFO a NATS server greets a client with, or undefined when none answers there. */
export function serverInfo(host: string, port: number, timeoutMs = 500): Promise<{ auth_required?: boolean } | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (info?: { auth_required?: boolean }) => { socket.destroy(); resolve(info); };
    socket.setTimeout(timeoutMs, () => done());
    let text = '';
    socket.on('data', (d) => {
      text += d.toString();
      // Not a NATS server (or not yet the whole line of one: INFO fits one read but may not).
      if (!text.startsWith('INFO') && !'INFO'.startsWith(text)) return done();
      const end = text.indexOf('\n');
      if (end < 0) return undefined;
      try { return done(JSON.parse(text.slice(5, end)) as { auth_required?: boolean }); } catch { return done({}); }
    });
    socket.once('error', () => done());
  });
}

export async function answers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return (await serverInfo(host, port, timeoutMs)) !== undefined;
}

export async function ensureBroker(nats: Pick<Config['nats'], 'servers' | 'urlGiven' | 'external'> & Partial<Pick<Config['nats'], 'mode'>>, opts: BrokerOptions): Promise<Broker> {
  const url = nats.servers[0] ?? 'nats://127.0.0.1:4222';
  if (nats.external) return externalBroker(url, nats.servers);
  const { port, note } = await choosePort(url, nats.urlGiven, opts.stateDir);
  const own = nats.mode === 'cluster' ? await startOwnCluster(port, opts, (p) => answers('127.0.0.1', p)) : await startOwn(port, opts);
  return { ...own, ...(note ? { note } : {}) };
}

/** Another NATS, as it is: every server NATS_URL names (a cluster's nodes) goes to the roles. */
async function externalBroker(url: string, servers: readonly string[]): Promise<Broker> {
  const { host, port } = hostPort(url);
  const info = await serverInfo(host, port);
  if (!info) throw new Error(`TPS_EXTERNAL_NATS=true, but no NATS answers at ${url}. Start it, or unset TPS_EXTERNAL_NATS so tps up starts its own.`);
  const who = info.auth_required
    ? 'which tps up did not start: its users and permissions, not TPS Lab\'s per-role ones, decide who may'
    : 'which asks for no credentials: any process that reaches it can';
  return { url: servers.length > 1 ? servers.join(',') : url, warning: `WARNING: TPS_EXTERNAL_NATS=true: using the NATS at ${url}, ${who} publish jobs, purge the dead-letter queue or set chaos faults.` };
}

/** The port NATS_URL names (refused when taken); without NATS_URL the default, else any free one. */
async function choosePort(url: string, given: boolean, stateDir: string): Promise<{ port: number; note?: string }> {
  const { host, port } = hostPort(url);
  if (given && !loopback.has(host)) {
    throw new Error(`NATS_URL=${url} is not on this machine, so tps up cannot start its nats-server there. To use that server as it is, set TPS_EXTERNAL_NATS=true.`);
  }
  if (await portFree(port)) return { port };
  const info = await serverInfo('127.0.0.1', port);
  const holder = info ? `a NATS server tps up did not start${info.auth_required ? '' : ', without authentication'}` : 'another program';
  if (given) {
    throw new Error(`NATS_URL=${url}: port ${port} is taken by ${holder}. tps up starts its own nats-server with TPS Lab's per-role users and adopts no other. ` +
      'Free the port, name a free one in NATS_URL, unset NATS_URL (tps up then picks a free port), or set TPS_EXTERNAL_NATS=true to use that server as it is.');
  }
  const free = await anyFreePort();
  return { port: free, note: `port ${port} is taken by ${holder}; nats-server listens on ${free} instead (tps commands find it in ${operatorEnvFile(stateDir)}).` };
}

async function startOwn(port: number, opts: BrokerOptions): Promise<Broker> {
  const storeDir = path.join(opts.stateDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  // The monitoring port is a convenience: go without it rather than fail when 8222 is taken.
  const monitorPort = (await portFree(opts.monitorPort)) ? opts.monitorPort : -1;
  // Same users and permissions as compose: every role gets only the subjects it needs.
  const passwords = generatePasswords();
  const configFile = path.join(opts.stateDir, 'nats', 'nats.conf');
  writeSecret(configFile, renderServerConfig({
    header: ['Generated by `tps up` for this run; passwords change at every start.'],
    listen: `127.0.0.1:${port}`,
    ...(monitorPort > 0 ? { monitor: `127.0.0.1:${monitorPort}` } : {}),
    storeDir,
    passwords,
  }));
  const proc = manage({
    name: 'nats',
    command: findNatsServer(),
    args: ['-c', configFile],
    logFile: path.join(opts.stateDir, 'logs', 'nats.log'),
    restart: true,
    ownSession: opts.ownSession,
  });
  proc.start();
  const deadline = Date.now() + 10_000;
  while (!(await answers('127.0.0.1', port))) {
    if (Date.now() > deadline) throw new Error(`nats-server did not start on port ${port}; see ${proc.spec.logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const brokerUrl = `nats://127.0.0.1:${port}`;
  writeOperatorEnv(opts.stateDir, brokerUrl, passwords);
  return { url: brokerUrl, managed: proc, passwords, ...(monitorPort > 0 ? { monitorUrl: `http://127.0.0.1:${monitorPort}` } : {}) };
}

/** What the supervisor says about its NATS as it starts. */
export function brokerLines(broker: Broker, storeDir: string): string[] {
  return [
    ...(broker.note ? [broker.note] : []),
    !broker.managed ? `using the NATS at ${broker.url} (TPS_EXTERNAL_NATS=true)`
      : broker.url.includes(',') ? `started a NATS cluster of ${broker.url.split(',').length} nats-servers at ${broker.url} with the per-role users (stores ${storeDir}/nats-*)`
        : `started nats-server at ${broker.url} with the per-role users (store ${storeDir})`,
    ...(broker.warning ? [broker.warning] : []),
  ];
}
