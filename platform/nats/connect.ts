// One way to connect to NATS for every role: reconnect forever once connected, ping often so a
// dead server is noticed in seconds, and a clear error (not a stack trace) when NATS cannot be
// reached at start.
import { NatsConnectionImpl, setTransportFactory } from '@nats-io/nats-core/internal';
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import { NodeTransport } from '@nats-io/transport-node/lib/node_transport.js';
import type { Config } from '../config.ts';
import { resolveHost } from '../dns.ts';
import type { Logger } from '../logger.ts';
import { userInboxPrefix } from './permissions.ts';

export type { NatsConnection };

export class NatsUnavailableError extends Error {
  constructor(servers: readonly string[], waitedMs: number, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `Cannot reach NATS at ${servers.join(', ')} after ${Math.round(waitedMs / 100) / 10}s (${reason}). ` +
        'Start it with `make up` (or `nats-server -js`), or point NATS_URL at a running server.',
      { cause },
    );
    this.name = 'NatsUnavailableError';
  }
}

/** Connection state for answering "is the broker there?" without a round trip. */
export type BrokerState = {
  readonly connected: () => boolean;
  /** Resolves once the connection is down: at once when it is now, else at its next loss. */
  readonly down: () => Promise<void>;
};

type ConnectOptions = { name: string; logger: Logger; connectTimeoutMs?: number };

export async function connectNats(config: Config['nats'], { name, logger, connectTimeoutMs }: ConnectOptions): Promise<NatsConnection> {
  const deadline = Date.now() + (connectTimeoutMs ?? config.connectTimeoutMs);
  const started = Date.now();
  for (;;) {
    try {
      const nc = await connect({
        servers: [...config.servers],
        name,
        ...(config.user ? credentials(config.user, config.password) : {}),
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        reconnectJitter: 100,
        pingInterval: 3_000,
        maxPingOut: 2,
        timeout: Math.max(500, Math.min(5_000, deadline - Date.now())),
        // Async stack traces cost about a quarter of the publish path's CPU.
        noAsyncTraces: true,
      });
      watchStatus(nc, logger);
      return nc;
    } catch (err) {
      if (isAuthError(err) || Date.now() + 250 >= deadline) throw mapConnectError(err, config, Date.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** A user of permissions.ts may subscribe only under its own inbox prefix, so it must use it. */
function credentials(user: string, pass: string | undefined): { user: string; pass?: string; inboxPrefix?: string } {
  const inboxPrefix = userInboxPrefix(user);
  return { user, ...(pass === undefined ? {} : { pass }), ...(inboxPrefix ? { inboxPrefix } : {}) };
}

/** The inbox prefix a connection was opened with (where replies to its requests arrive). */
export function connectionInboxPrefix(nc: NatsConnection): string {
  // nats.js keeps its options on the connection (its JetStream client reads them the same way).
  return (nc as NatsConnection & { options?: { inboxPrefix?: string } }).options?.inboxPrefix || '_INBOX';
}

export function brokerState(nc: NatsConnection): BrokerState {
  let connected = !nc.isClosed();
  const lost: Array<() => void> = [];
  const setConnected = (now: boolean) => {
    connected = now;
    if (!now) for (const resolve of lost.splice(0)) resolve();
  };
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect' || status.type === 'staleConnection' || status.type === 'close') setConnected(false);
      else if (status.type === 'reconnect') setConnected(true);
    }
  })();
  nc.closed().then(() => setConnected(false));
  const isConnected = () => connected && !nc.isClosed();
  return {
    connected: isConnected,
    down: () => (isConnected() ? new Promise<void>((resolve) => { lost.push(resolve); }) : Promise.resolve()),
  };
}

/**
 * Drains the connection, and fails at once when the broker is down or goes while it drains. A
 * drain waits for the connection to come back, and when the server went with the host (a reboot,
 * Docker stopping every container at once) the step would wait out its whole grace period for
 * nothing: what a drain would flush cannot reach a server that is gone (every write that matters,
 * a publish or a status, is confirmed before the role acts on it).
 */
export async function drainUnlessDown(nc: NatsConnection, broker: BrokerState): Promise<void> {
  const down = () => new Error('the connection to NATS is down: nothing can be flushed to it');
  if (!broker.connected()) throw down();
  const draining = nc.drain();
  // Once the connection is found down, the drain's own end (when the step's abandon closes the
  // connection) is of no interest.
  draining.catch(() => {});
  const lost = (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect' || status.type === 'staleConnection') throw down();
    }
    // The connection closed, as a drain ends: the drain's own outcome.
    return draining;
  })();
  lost.catch(() => {});
  await Promise.race([draining, lost]);
}

/**
 * nats.js's `connect` for Node with our host resolution (platform/dns.ts) in place of its
 * `dns.lookup`, which a role stopped with NATS gone waited 10 s for. The transport factory is
 * global to nats.js and read at every dial, so it is set at every connect, as nats.js's is.
 */
async function connect(options: NodeConnectionOptions): Promise<NatsConnection> {
  setTransportFactory({ factory: () => new NodeTransport(), dnsResolveFn: (host) => resolveHost(host, { signal: unwanted.signal }) });
  connections += 1;
  const closed = () => {
    if (--connections > 0) return;
    // No connection needs a server's address any more: a query waiting for its answer would keep
    // the process alive up to its deadline.
    unwanted.abort();
    unwanted = new AbortController();
  };
  try {
    const nc = await NatsConnectionImpl.connect(options);
    void nc.closed().then(closed);
    return nc;
  } catch (err) {
    closed();
    throw err;
  }
}
/** Connections of ours open or opening: with none, a resolution under way is of no use. */
let connections = 0;
let unwanted = new AbortController();

function watchStatus(nc: NatsConnection, logger: Logger): void {
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') logger.warn({ server: status.server }, 'disconnected from NATS; reconnecting');
      else if (status.type === 'reconnect') logger.info({ server: status.server }, 'reconnected to NATS');
      else if (status.type === 'error') logger.error({ err: status.error }, 'NATS connection error');
    }
  })();
}

function isAuthError(err: unknown): boolean {
  return err instanceof Error && /authoriz|authenticat/i.test(err.message);
}

function mapConnectError(err: unknown, config: Config['nats'], waitedMs: number): Error {
  if (isAuthError(err)) {
    return new Error(
      `NATS at ${config.servers.join(', ')} refused the credentials${config.user ? ` of user "${config.user}"` : ''} ` +
        '(check NATS_USER / NATS_PASSWORD).',
      { cause: err },
    );
  }
  return new NatsUnavailableError(config.servers, waitedMs, err);
}
