// The statuses of many jobs at once: one watch over the whole tps_jobs bucket (every revision,
// then live updates) instead of one history read per job, which would take minutes for a
// ledger of 60 000 jobs. Only the ids asked about are kept.
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { KvWatchInclude, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { fold, jobIdOfStatusKey, jobStatusEntrySchema, safeJson, type JobStatusEntry, type JobView } from '#platform/job-status.ts';
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

export async function watchStatuses(nc: NatsConnection, ids: ReadonlySet<string>, jsm?: JetStreamManager): Promise<StatusWatch> {
  const manager = jsm ?? await jetstreamManager(nc);
  const kv = await new Kvm(nc).open(buckets.jobs);
  const entries = new Map<string, JobStatusEntry[]>();
  let seen = 0;
  const watch = await kv.watch({ key: '>', include: KvWatchInclude.AllHistory, ignoreDeletes: true });
  const done = (async () => {
    for await (const e of watch) {
      seen = Math.max(seen, e.revision);
      const id = jobIdOfStatusKey(e.key);
      if (!ids.has(id) || e.operation !== 'PUT') continue;
      const parsed = jobStatusEntrySchema.safeParse(safeJson(e.string()));
      if (!parsed.success) continue;
      const list = entries.get(id);
      if (list) list.push(parsed.data);
      else entries.set(id, [parsed.data]);
    }
  })();
  return {
    async catchUp(stallMs) {
      const state = (await manager.streams.info(`KV_${buckets.jobs}`)).state;
      // A bucket holding an hour of heavy load takes a while to read: fail only when reading stops.
      let progress = { at: Date.now(), seen };
      while (state.messages > 0 && seen < state.last_seq) {
        if (seen > progress.seen) progress = { at: Date.now(), seen };
        else if (Date.now() - progress.at > stallMs) throw new StatusReadError(`reading the ${buckets.jobs} bucket stalled at revision ${seen} of ${state.last_seq}; is NATS overloaded? Try again.`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    view: (id) => fold(id, entries.get(id) ?? []),
    stop() {
      watch.stop();
      void done.catch(() => undefined);
    },
  };
}
