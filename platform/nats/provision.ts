// Applies a declared topology: creates what is missing, updates what changed, leaves the rest.
// Running it twice is a no-op; a changed limit is applied and reported. Every stream is looked at
// before anything changes: an update that would delete messages a stream holds refuses the whole
// run (shrink-guard.ts), unless the operator names how many may go. A consumer that is ahead of
// its stream, which a broker that lost its last writes leaves behind, is re-created (consumer-reset.ts);
// a stream such a broker left with a stale delete map is made whole (stream-repair.ts), and a job
// queue it gave back messages already acknowledged has them removed (consumer-reset.ts).
import { jetstreamManager, JetStreamApiCodes, JetStreamApiError, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { aheadReason, consumerAhead, dropAcknowledged, resetConsumer, startFields } from './consumer-reset.ts';
import { repairStreams, staleDeletes, staleReason } from './stream-repair.ts';
import { refusal, streamLoss, type ForcedLosses, type StreamLoss } from './shrink-guard.ts';
import type { ConsumerDecl, StreamDecl, Topology } from './topology.ts';

export type ProvisionAction = {
  kind: 'stream' | 'consumer';
  name: string;
  action: 'created' | 'updated' | 'unchanged' | 'reset' | 'repaired';
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

/** An update that would delete messages, refused before anything was changed. */
export class ProvisionRefused extends TopologyError {
  readonly losses: readonly StreamLoss[];
  constructor(losses: StreamLoss[]) {
    super(refusal(losses));
    this.name = 'ProvisionRefused';
    this.losses = losses;
  }
}

export type ProvisionOptions = {
  /** Messages the operator lets go, per stream (`tps provision --force JOBS_FAST=50`). */
  force?: ForcedLosses;
};

type StreamPlan = { decl: StreamDecl; info: StreamInfo | undefined; changes: string[]; loss: StreamLoss | undefined };

export async function provision(nc: NatsConnection, topology: Topology, opts: ProvisionOptions = {}): Promise<ProvisionAction[]> {
  const jsm = await jetstreamManager(nc, { timeout: 5_000 });
  const unknown = Object.keys(opts.force ?? {}).filter((name) => !topology.streams.some((s) => s.name === name));
  if (unknown.length > 0) throw new TopologyError(`--force names ${unknown.join(', ')}, not a stream of the topology (${topology.streams.map((s) => s.name).join(', ')})`);
  const plans: StreamPlan[] = [];
  for (const decl of topology.streams) plans.push(await planStream(jsm, decl));
  const refused = plans.flatMap((p) => (p.loss && (opts.force?.[p.loss.stream] ?? 0) < p.loss.wouldDelete ? [p.loss] : []));
  if (refused.length > 0) throw new ProvisionRefused(refused);
  const actions: ProvisionAction[] = [];
  for (const plan of plans) actions.push(await applyStream(jsm, plan));
  // A stream a power cut left unsound (stream-repair.ts), before any role writes to it; after the
  // streams are applied, since one made again over what a cut left of its files has their state.
  const repaired = await repairStreams(jsm, jsm.jetstream(), topology.streams.map((s) => s.name));
  actions.push(...repaired.map((r): ProvisionAction => ({ kind: 'stream', name: r.stream, action: 'repaired', changes: [r.done] })));
  for (const decl of topology.consumers) actions.push(await applyConsumer(jsm, decl));
  for (const decl of topology.consumers) {
    const dropped = await dropAcknowledged(jsm, decl);
    if (dropped) actions.push({ kind: 'stream', name: decl.stream, action: 'repaired', changes: [dropped] });
  }
  return actions;
}

async function planStream(jsm: JetStreamManager, decl: StreamDecl): Promise<StreamPlan> {
  const info = await streamInfo(jsm, decl.name);
  if (!info) return { decl, info, changes: [], loss: undefined };
  const changes = diff(decl, info.config as unknown as Record<string, unknown>);
  const immutable = changes.filter((c) => immutableStreamFields.has(c.split(':')[0] ?? ''));
  if (immutable.length > 0) {
    throw new TopologyError(
      `Stream ${decl.name} exists with settings that cannot be changed in place (${immutable.join('; ')}). ` +
        `Delete it (\`nats stream rm ${decl.name}\`, losing its messages) and provision again.`,
    );
  }
  const loss = changes.length > 0 ? await streamLoss(jsm, decl, info) : undefined;
  return { decl, info, changes, loss };
}

async function applyStream(jsm: JetStreamManager, { decl, info, changes }: StreamPlan): Promise<ProvisionAction> {
  if (!info) {
    await jsm.streams.add(decl);
    return { kind: 'stream', name: decl.name, action: 'created', changes: [] };
  }
  if (changes.length === 0) return { kind: 'stream', name: decl.name, action: 'unchanged', changes };
  await jsm.streams.update(decl.name, { ...info.config, ...decl });
  return { kind: 'stream', name: decl.name, action: 'updated', changes };
}

async function applyConsumer(jsm: JetStreamManager, decl: ConsumerDecl): Promise<ProvisionAction> {
  const name = `${decl.stream}/${decl.config.durable_name}`;
  const found = await jsm.consumers.info(decl.stream, decl.config.durable_name).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  const info = found ?? await jsm.consumers.add(decl.stream, decl.config);
  // The stream is read after the consumer, never before (nor taken from the plan): on a live stack
  // a stream read first may be behind what the consumer delivered meanwhile, a false "ahead". A
  // consumer just added is checked too: a stream made again over what a power cut left of it can
  // bring back its consumer's old state (seen in CI: "delivered up to message 32 of a stream that
  // now ends at 0").
  const ahead = consumerAhead(info, await jsm.streams.info(decl.stream));
  if (ahead) return { kind: 'consumer', name, action: 'reset', changes: [await resetConsumer(jsm, decl, ahead)] };
  if (!found) return { kind: 'consumer', name, action: 'created', changes: [] };
  // Where a consumer starts reading matters only when it is made (a reset one starts elsewhere).
  const current = Object.fromEntries(Object.entries(info.config).filter(([key]) => !startFields.has(key)));
  const declared = Object.fromEntries(Object.entries(decl.config).filter(([key]) => !startFields.has(key)));
  const changes = diff(declared, current);
  if (changes.length === 0) return { kind: 'consumer', name, action: 'unchanged', changes };
  await jsm.consumers.update(decl.stream, decl.config.durable_name, declared);
  return { kind: 'consumer', name, action: 'updated', changes };
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
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

/** Fails with one message naming every missing stream or consumer and how to create them, or
 * every consumer ahead of its stream (consumer-reset.ts), which only provisioning may make again:
 * after a host's restart compose starts the roles again but not its provision step. */
export async function verifyTopology(jsm: JetStreamManager, topology: Topology, need: { streams: string[]; consumers?: string[] }): Promise<void> {
  const missing: string[] = [];
  const ahead: string[] = [];
  const unsound: string[] = [];
  for (const name of need.streams) {
    // One read says both whether it is there and whether it is sound.
    const found = await staleDeletes(jsm, name).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (!found) missing.push(`stream ${name}`);
    else if (found.stale.length > 0) unsound.push(`stream ${name}: ${staleReason(found.stale, found.info.state.last_seq)}`);
  }
  for (const durable of need.consumers ?? []) {
    const decl = topology.consumers.find((c) => c.config.durable_name === durable);
    if (!decl) throw new TopologyError(`consumer ${durable} is not declared in the topology`);
    const info = await jsm.consumers.info(decl.stream, durable).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
      missing.push(`consumer ${decl.stream}/${durable}`);
      return undefined;
    });
    // Read after the consumer, as in applyConsumer: the streams read above may be behind it by now.
    const stream = info && await streamInfo(jsm, decl.stream);
    const found = info && stream && consumerAhead(info, stream);
    if (found) ahead.push(`consumer ${decl.stream}/${durable} has ${aheadReason(found)}`);
  }
  if (missing.length > 0) {
    throw new TopologyError(`NATS topology is missing ${missing.join(', ')}. Run \`tps provision\` (make up does it).`);
  }
  if (unsound.length > 0) {
    throw new TopologyError(`${unsound.join('; ')}. Run \`tps provision\` (\`make up\`, and \`docker-compose up\` through its provision step, do it), which makes it whole and keeps what it holds.`);
  }
  if (ahead.length > 0) {
    throw new TopologyError(`${ahead.join('; ')}, and the next jobs would be skipped. ` +
      'Run `tps provision` (`make up`, and `docker-compose up` through its provision step, do it), which makes it again.');
  }
}
