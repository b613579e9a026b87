// The statuses of many jobs at once: one watch over the whole tps_jobs bucket (every revision,
// then live updates) instead of one history read per job, which would take minutes for a
// ledger of 60 000 jobs. Only the ids asked about are kept.
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { KvWatchInclude, Kvm, type KV, type KvWatchEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { fold, jobIdOfStatusKey, jobStatusEntrySchema, safeJson, type JobStatusEntry, type JobView } from '#platform/job-status.ts';
import { isNotFound } from '#platform/nats/provision.ts';
import { buckets } from '#platform/nats/subjects.ts';

export class StatusReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StatusReadError';
  }
}

export type StatusWatch = {
  /** Waits until every status written before this call has been seen (fails if reading stalls for stallMs). */
  catchUp(stallMs: number): Promise<void>;
  view(id: string): JobView | undefined;
  stop(): void;
};

/**
 * How long a watch may sit short of the bucket's last revision before it is replaced by a fresh
 * one from where it stopped. Its consumer lives on any replica of the bucket; once in a CI run,
 * just after a partition healed, one stopped a revision short with nothing more written (likely
 * made on the replica still catching up: docs/nats-cluster.md). A consumer removed on the server
 * (its node restarted) goes silent the same way until the client's heartbeat check, 10 s. A fresh
 * consumer reads the store as it is now. Longer than a loaded machine's pause between deliveries.
 */
const replaceStalledWatchAfterMs = 5_000;

export async function watchStatuses(nc: NatsConnection, ids: ReadonlySet<string>, jsm?: JetStreamManager): Promise<StatusWatch> {
  const manager = jsm ?? await jetstreamManager(nc);
  // Without the bucket, the watch would fail with nats.js' bare "stream not found".
  await manager.streams.info(`KV_${buckets.jobs}`).catch((err: unknown) => {
    if (!isNotFound(err)) throw err;
    throw new StatusReadError(`this NATS has no ${buckets.jobs} bucket (stream KV_${buckets.jobs}), where job statuses are kept: is it TPS Lab's? ` +
      '`tps provision` (which `make up` runs) creates it; a broker that lost its store (e.g. its host lost power) has lost it too.');
  });
  const kv = await new Kvm(nc).open(buckets.jobs);
  const entries = new Map<string, JobStatusEntry[]>();
  let seen = 0;
  const keep = (e: KvWatchEntry) => {
    // A replacement starts right after the last revision kept, so nothing is kept twice.
    if (e.revision <= seen) return;
    seen = e.revision;
    const id = jobIdOfStatusKey(e.key);
    if (!ids.has(id) || e.operation !== 'PUT') return;
    const parsed = jobStatusEntrySchema.safeParse(safeJson(e.string()));
    if (!parsed.success) return;
    const list = entries.get(id);
    if (list) list.push(parsed.data);
    else entries.set(id, [parsed.data]);
  };
  let reading = await readFrom(kv, 1, keep);
  let replaced = 0;
  return {
    async catchUp(stallMs) {
      const state = (await manager.streams.info(`KV_${buckets.jobs}`)).state;
      // A bucket holding an hour of heavy load takes a while to read: fail only when reading stops.
      let progress = { at: Date.now(), seen };
      let lastTry = progress.at;
      while (state.messages > 0 && seen < state.last_seq) {
        const now = Date.now();
        if (seen > progress.seen) progress = { at: now, seen };
        else if (now - progress.at > stallMs) throw new StatusReadError(`reading the ${buckets.jobs} bucket stalled at revision ${seen} of ${state.last_seq}${replaced ? ` (read afresh ${replaced} times)` : ''}; is NATS overloaded? Try again.`);
        else if (now - Math.max(progress.at, lastTry) > Math.min(replaceStalledWatchAfterMs, stallMs / 3)) {
          lastTry = now;
          reading.stop();
          reading = await readFrom(kv, seen + 1, keep);
          replaced += 1;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    view: (id) => fold(id, entries.get(id) ?? []),
    stop: () => reading.stop(),
  };
}

/** One watch over every revision from `revision` on, each entry handed to `keep` until stopped. */
async function readFrom(kv: KV, revision: number, keep: (e: KvWatchEntry) => void): Promise<{ stop(): void }> {
  const watch = await kv.watch({ key: '>', include: KvWatchInclude.AllHistory, resumeFromRevision: revision });
  let stopped = false;
  const done = (async () => {
    for await (const e of watch) {
      if (stopped) break;
      keep(e);
    }
  })();
  return {
    stop() {
      stopped = true;
      watch.stop();
      void done.catch(() => undefined);
    },
  };
}
