// Renders a nats-server configuration with JetStream and the per-role users of permissions.ts.
// Native mode writes it with generated passwords; compose commits it with `$NATS_PASSWORD_*`
// variables that nats-server reads from its environment (the compose .env file).
import { natsUserNames, natsUsers, passwordVariable, type NatsPermissions, type NatsUserName } from './permissions.ts';

export type ServerConfigOptions = {
  listen: string;
  monitor?: string;
  storeDir: string;
  /** Literal passwords (native mode), or undefined to reference `$NATS_PASSWORD_<USER>` (compose). */
  passwords?: Readonly<Record<NatsUserName, string>>;
  /** Extra JetStream settings for newer servers (e.g. `sync_interval`); 2.9 rejects unknown keys. */
  jetstreamExtra?: string[];
  header?: string[];
  /** The users' permissions; the table of permissions.ts unless a test takes a right away. */
  users?: Readonly<Record<NatsUserName, NatsPermissions>>;
  /** A node of a cluster: its unique name (JetStream needs one per node), the cluster's name, where
   * it listens for routes, and the routes to every node. */
  cluster?: { serverName: string; name: string; listen: string; routes: readonly string[]; routePassword: string };
};

const quote = (s: string) => JSON.stringify(s);
const list = (items: readonly string[]) => `[${items.map(quote).join(', ')}]`;

export function renderServerConfig(opts: ServerConfigOptions): string {
  const users = natsUserNames.map((name) => {
    const p = (opts.users ?? natsUsers)[name];
    const password = opts.passwords ? quote(opts.passwords[name]) : `$${passwordVariable(name)}`;
    return [
      `    {`,
      `      user: ${quote(name)}`,
      `      password: ${password}`,
      `      permissions: {`,
      `        publish: { allow: ${list(p.publish)} }`,
      `        subscribe: { allow: ${list(p.subscribe)} }`,
      `      }`,
      `    }`,
    ].join('\n');
  });
  return [
    ...(opts.header ?? []).map((line) => `# ${line}`),
    `listen: ${quote(opts.listen)}`,
    ...(opts.monitor ? [`http: ${quote(opts.monitor)}`] : []),
    ...(opts.cluster ? [
      `server_name: ${quote(opts.cluster.serverName)}`,
      `cluster {`,
      `  name: ${quote(opts.cluster.name)}`,
      `  listen: ${quote(opts.cluster.listen)}`,
      // Only the nodes themselves join: a route presents the cluster's own password.
      `  authorization { user: "route", password: ${quote(opts.cluster.routePassword)} }`,
      `  routes: ${list(opts.cluster.routes.map((r) => r.replace('nats://', `nats://route:${encodeURIComponent(opts.cluster?.routePassword ?? '')}@`)))}`,
      `}`,
    ] : []),
    `jetstream {`,
    `  store_dir: ${quote(opts.storeDir)}`,
    ...(opts.jetstreamExtra ?? []).map((line) => `  ${line}`),
    `}`,
    `authorization {`,
    `  users: [`,
    users.join('\n'),
    `  ]`,
    `}`,
    '',
  ].join('\n');
}

/** The committed compose configuration (nats/nats.conf); a test keeps the file equal to this. */
export function renderComposeNatsConfig(): string {
  return renderServerConfig({
    header: [
      'TPS Lab NATS for docker compose. Generated from platform/nats/permissions.ts by',
      '`make generate`; do not edit by hand.',
      'Passwords are read from the environment ($NATS_PASSWORD_*, the .env file from `make compose-env`).',
      'sync_interval stays at its default (fsync every 2 min): a container or process crash loses',
      'nothing (written data is in the host page cache). A host that loses its power loses what the',
      'kernel had not yet written, the last seconds of jobs (docs/benchmarks.md#durability); the next',
      'start repairs the queues and works every job after. `always` would fsync every message; an R3',
      'cluster (docker-compose.cluster.yml) loses nothing when one host goes.',
    ],
    listen: '0.0.0.0:4222',
    monitor: '0.0.0.0:8222',
    storeDir: '/data',
  });
}
