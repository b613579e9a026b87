// The DLQ operations an operator has, one implementation for `tps dlq` and the admin API:
// list, show, replay and purge, each over an explicit selection.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { countSubmitted } from '../admission/submitted.ts';
import { AppError } from '../errors.ts';
import { openJobStatusStore } from '../job-status.ts';
import type { MetricsRegistry } from '../metrics.ts';
import { openClaims } from './claims.ts';
import { readEntries, readEntry, type DlqEntry } from './entries.ts';
import { describeFilter, selectEntries, selectsEverything, type DlqFilter } from './filter.ts';
import { purgeEntries, type PurgeOutcome } from './purge.ts';
import { replayEntries, type ReplayOutcome } from './replay.ts';

export type Selection = { filter: DlqFilter; all?: boolean };

export type DlqOperations = {
  list(filter: DlqFilter): Promise<DlqEntry[]>;
  /** By DLQ sequence, or by the dead-lettered job's id. */
  show(id: string): Promise<DlqEntry | undefined>;
  replay(selection: Selection, opts: { ratePerSecond: number; dryRun: boolean; by: string; onOutcome?: (o: ReplayOutcome) => void }): Promise<ReplayOutcome[]>;
  purge(selection: Selection, opts: { dryRun: boolean; by: string }): Promise<PurgeOutcome[]>;
  close(): void;
};

export type DlqOperationsOptions = {
  /** Where replayed jobs are counted as submitted (tps_jobs_submitted_total): a long-running
   * process's registry. Without one (a `tps dlq` command, which has no /metrics) they are not. */
  registry?: MetricsRegistry;
};

export async function openDlqOperations(nc: NatsConnection, opts: DlqOperationsOptions = {}): Promise<DlqOperations> {
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const claims = await openClaims(nc);
  const status = await openJobStatusStore(nc);
  const submitted = opts.registry ? countSubmitted(opts.registry) : () => {};

  async function select({ filter, all }: Selection): Promise<DlqEntry[]> {
    if (selectsEverything(filter) && !all) {
      throw new AppError('INVALID_REQUEST', { detail: 'Name the entries (ids) or a filter (pool, type, code, reason, job id), or ask for all of them explicitly.' });
    }
    // Ids alone: read just those entries instead of the whole DLQ.
    if (filter.ids && Object.keys(filter).every((k) => k === 'ids' || k === 'limit')) {
      const found = (await Promise.all(filter.ids.map((seq) => readEntry(jsm, seq)))).filter((e): e is DlqEntry => e !== undefined);
      return selectEntries(found.sort((a, b) => a.seq - b.seq), filter);
    }
    return selectEntries(await readEntries(js, jsm), filter);
  }

  return {
    async list(filter) {
      return selectEntries(await readEntries(js, jsm), filter);
    },
    async show(id) {
      if (/^\d+$/.test(id)) return readEntry(jsm, Number(id));
      return (await readEntries(js, jsm)).find((e) => e.jobId === id);
    },
    async replay(selection, opts) {
      const entries = await select(selection);
      return replayEntries(entries, { js, jsm, claims, status, by: opts.by, submitted }, opts);
    },
    async purge(selection, opts) {
      const entries = await select(selection);
      return purgeEntries(entries, { js, jsm, claims, by: opts.by }, { dryRun: opts.dryRun, filter: selection.all && selectsEverything(selection.filter) ? 'all' : describeFilter(selection.filter) });
    },
    close: () => status.close(),
  };
}
