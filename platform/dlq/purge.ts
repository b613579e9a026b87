// Purging DLQ entries an operator has decided not to replay: exactly the selected entries leave
// the stream (one delete per entry, each behind the same claim a replay takes, so an entry is
// never both replayed and purged), and one audit event records what went.
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { streams } from '../nats/subjects.ts';
import type { Claims } from './claims.ts';
import type { DlqEntry } from './entries.ts';
import { publishPurged } from './audit-events.ts';

export type PurgeOutcome = { seq: number; jobId: string; type: string; pool: string; code: string } & (
  | { outcome: 'purged' | 'would_purge' }
  | { outcome: 'skipped'; why: string }
);

export type PurgeDeps = { js: JetStreamClient; jsm: JetStreamManager; claims: Claims; by: string };

export async function purgeEntries(entries: readonly DlqEntry[], deps: PurgeDeps, opts: { dryRun: boolean; filter: string }): Promise<PurgeOutcome[]> {
  const outcomes: PurgeOutcome[] = [];
  for (const entry of entries) {
    const base = { seq: entry.seq, jobId: entry.jobId, type: entry.type, pool: entry.pool, code: entry.code };
    if (opts.dryRun) { outcomes.push({ ...base, outcome: 'would_purge' }); continue; }
    const claim = { action: 'purge' as const, state: 'claimed' as const, by: deps.by, at: new Date().toISOString() };
    const won = await deps.claims.claim(entry, claim);
    if (!won.won) {
      outcomes.push({ ...base, outcome: 'skipped', why: `already ${won.existing?.action === 'replay' ? 'replayed' : 'purged'} by ${won.existing?.by ?? 'another operation'}` });
      continue;
    }
    const deleted = await deps.jsm.streams.deleteMessage(streams.dlq, entry.seq, false).catch(() => false);
    if (!deleted) {
      await deps.claims.release(entry, won.revision).catch(() => undefined);
      outcomes.push({ ...base, outcome: 'skipped', why: 'no longer in the DLQ' });
      continue;
    }
    await deps.claims.complete(entry, won.revision, claim);
    outcomes.push({ ...base, outcome: 'purged' });
  }
  const purged = outcomes.filter((o) => o.outcome === 'purged');
  if (purged.length > 0) {
    await publishPurged(deps.js, deps.by, { filter: opts.filter, count: purged.length, seqs: purged.map((o) => o.seq) });
  }
  return outcomes;
}
