// Where a job the loss oracle (stack.ts, settle) waited for in vain is: the status keys the bucket
// holds for it, whether its message is still in its pool's queue (and at which sequence), what the
// pool's consumer says it delivered and had acknowledged, and the tail of the pool's worker log. A
// test that fails on "1 of 60 jobs to finish" then says which of "never delivered", "worked but its
// status unreadable" and "delivered and dropped" it was, from the one run that showed it: the
// stack's folder, logs and all, goes when the test stops.
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { JobView } from '#platform/job-status.ts';
import { buckets } from '#platform/nats/subjects.ts';
import { isPool, poolDefinitions, workerRole, type PoolDefinition } from '#platform/pools.ts';

/** Messages of a queue read one by one for a stuck job's id: a test's queues hold a few hundred. */
const maxScanned = 5_000;
const logLines = 25;

export async function describeStuckJobs(nc: NatsConnection, log: (role: string) => string, stuck: readonly string[], views: ReadonlyMap<string, JobView>): Promise<string> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const parts: string[] = [];
  for (const id of stuck.slice(0, 3)) parts.push(await describeJob(jsm, id, views.get(id)));
  const pools = new Set(stuck.map((id) => views.get(id)?.pool).filter((p): p is string => p !== undefined && isPool(p)));
  for (const pool of pools.size > 0 ? pools : new Set(['fast'])) {
    if (!isPool(pool)) continue;
    const def = poolDefinitions[pool];
    parts.push(await describeQueue(jsm, def));
    const tail = log(workerRole(pool)).trimEnd().split('\n').slice(-logLines).join('\n');
    parts.push(`${workerRole(pool)} log, last ${logLines} lines:\n${tail || '(empty)'}`);
  }
  parts.push(await describeStream(jsm, `KV_${buckets.jobs}`));
  return parts.join('\n');
}

async function describeJob(jsm: JetStreamManager, id: string, view: JobView | undefined): Promise<string> {
  const keys = [`${id}.accepted`, ...[1, 2, 3, 4].flatMap((n) => [`${id}.started.${n}`, `${id}.failed.${n}`]), `${id}.done`];
  const found: string[] = [];
  for (const key of keys) {
    const m = await jsm.streams.getMessage(`KV_${buckets.jobs}`, { last_by_subj: `$KV.${buckets.jobs}.${key}` }).catch(() => undefined);
    if (m) found.push(`${key.slice(id.length + 1)}@${m.seq}`);
  }
  const pool = view?.pool && isPool(view.pool) ? poolDefinitions[view.pool] : undefined;
  const where = pool ? await findInQueue(jsm, pool.stream, id) : 'its pool unknown';
  return `job ${id}: ${view ? `${view.status}, ${view.attempts} attempt(s)` : 'no status read'}; status keys ${found.join(' ') || 'none'}; ${where}`;
}

async function findInQueue(jsm: JetStreamManager, stream: string, id: string): Promise<string> {
  const { state } = await jsm.streams.info(stream);
  const last = Math.min(state.last_seq, state.first_seq + maxScanned);
  for (let seq = state.first_seq; seq <= last; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
    if (m?.header?.get('Nats-Msg-Id') === id) return `its message is in ${stream} at sequence ${seq}`;
  }
  return `its message is not in ${stream} (read ${state.first_seq}..${last})`;
}

async function describeQueue(jsm: JetStreamManager, def: PoolDefinition): Promise<string> {
  const c = await jsm.consumers.info(def.stream, def.consumer).catch((err: unknown) => (err as Error).message);
  const consumer = typeof c === 'string' ? c
    : `delivered ${c.delivered.stream_seq}, acknowledged up to ${c.ack_floor.stream_seq}, pending ${c.num_pending}, ack pending ${c.num_ack_pending}, ` +
      `redelivered ${c.num_redelivered}, waiting pulls ${c.num_waiting}, created ${c.created}`;
  return `${await describeStream(jsm, def.stream)}\nconsumer ${def.stream}/${def.consumer}: ${consumer}`;
}

async function describeStream(jsm: JetStreamManager, stream: string): Promise<string> {
  const s = await jsm.streams.info(stream).catch((err: unknown) => (err as Error).message);
  if (typeof s === 'string') return `stream ${stream}: ${s}`;
  const { state } = s;
  return `stream ${stream}: messages ${state.messages}, sequences ${state.first_seq}..${state.last_seq}, deleted ${state.num_deleted ?? 0}, created ${s.created}`;
}
