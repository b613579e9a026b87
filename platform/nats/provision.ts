// Applies a declared topology: creates what is missing, updates what changed, leaves the rest.
// Running it twice is a no-op; a changed limit is applied and reported.
import { jetstreamManager, JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ConsumerDecl, StreamDecl, Topology } from './topology.ts';

export type ProvisionAction = {
  kind: 'stream' | 'consumer';
  name: string;
  action: 'created' | 'updated' | 'unchanged';
  changes: string[];
};

/** Settings the server cannot change in place; changing them needs a delete and re-create. */
const immutableStreamFields = new Set(['retention', 'storage']);

export class TopologyError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TopologyError';
  }
}

export async function provision(nc: NatsConnection, topology: Topology): Promise<ProvisionAction[]> {
  const jsm = await jetstreamManager(nc, { timeout: 5_000 });
  const actions: ProvisionAction[] = [];
  for (const decl of topology.streams) actions.push(await applyStream(jsm, decl));
  for (const decl of topology.consumers) actions.push(await applyConsumer(jsm, decl));
  return actions;
}

async function applyStream(jsm: JetStreamManager, decl: StreamDecl): Promise<ProvisionAction> {
  const current = await streamConfig(jsm, decl.name);
  if (!current) {
    await jsm.streams.add(decl);
    return { kind: 'stream', name: decl.name, action: 'created', changes: [] };
  }
  const changes = diff(decl, current);
  const immutable = changes.filter((c) => immutableStreamFields.has(c.split(':')[0] ?? ''));
  if (immutable.length > 0) {
    throw new TopologyError(
      `Stream ${decl.name} exists with settings that cannot be changed in place (${immutable.join('; ')}). ` +
        `Delete it (\`nats stream rm ${decl.name}\`, losing its messages) and provision again.`,
    );
  }
  if (changes.length === 0) return { kind: 'stream', name: decl.name, action: 'unchanged', changes };
  await jsm.streams.update(decl.name, { ...current, ...decl });
  return { kind: 'stream', name: decl.name, action: 'updated', changes };
}

async function applyConsumer(jsm: JetStreamManager, decl: ConsumerDecl): Promise<ProvisionAction> {
  const name = `${decl.stream}/${decl.config.durable_name}`;
  let current: Record<string, unknown> | undefined;
  try {
    current = (await jsm.consumers.info(decl.stream, decl.config.durable_name)).config as Record<string, unknown>;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  if (!current) {
    await jsm.consumers.add(decl.stream, decl.config);
    return { kind: 'consumer', name, action: 'created', changes: [] };
  }
  const changes = diff(decl.config, current);
  if (changes.length === 0) return { kind: 'consumer', name, action: 'unchanged', changes };
  await jsm.consumers.update(decl.stream, decl.config.durable_name, decl.config);
  return { kind: 'consumer', name, action: 'updated', changes };
}

async function streamConfig(jsm: JetStreamManager, name: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await jsm.streams.info(name)).config as unknown as Record<string, unknown>;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** "field: current -> declared" for every declared field whose value differs. */
function diff(declared: object, current: Record<string, unknown>): string[] {
  return Object.entries(declared)
    .filter(([key, value]) => JSON.stringify(normalise(value)) !== JSON.stringify(normalise(current[key])))
    .map(([key, value]) => `${key}: ${JSON.stringify(current[key] ?? null)} -> ${JSON.stringify(value)}`);
}

function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return [...value].map(normalise).sort();
  return value ?? null;
}

export function isNotFound(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamNotFound || err.code === JetStreamApiCodes.ConsumerNotFound)
  );
}

/** Fails with one message naming every missing stream or consumer and how to create them. */
export async function verifyTopology(jsm: JetStreamManager, topology: Topology, need: { streams: string[]; consumers?: string[] }): Promise<void> {
  const missing: string[] = [];
  for (const name of need.streams) {
    if (!(await streamConfig(jsm, name))) missing.push(`stream ${name}`);
  }
  for (const durable of need.consumers ?? []) {
    const decl = topology.consumers.find((c) => c.config.durable_name === durable);
    if (!decl) throw new TopologyError(`consumer ${durable} is not declared in the topology`);
    try {
      await jsm.consumers.info(decl.stream, durable);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      missing.push(`consumer ${decl.stream}/${durable}`);
    }
  }
  if (missing.length > 0) {
    throw new TopologyError(`NATS topology is missing ${missing.join(', ')}. Run \`tps provision\` (make up does it).`);
  }
}
