// Compare-and-set claims in the `tps_dlq` bucket: before an entry is replayed or purged, the
// operation creates the entry's key; only one creator can win, so two racing replays (two
// operators, a CLI and the admin API) produce one job. The key is kept 7 days as the record.
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { buckets } from '../nats/subjects.ts';
import type { DlqEntry } from './entries.ts';

const claimSchema = z.object({
  action: z.enum(['replay', 'purge']),
  state: z.enum(['claimed', 'done']),
  by: z.string(),
  at: z.string(),
  newJobId: z.string().optional(),
});
export type Claim = z.infer<typeof claimSchema>;

export type ClaimOutcome = { won: true; revision: number } | { won: false; existing: Claim | undefined };

/** A claim never completed (its holder died) may be taken over after this long. */
export const staleClaimMs = 60_000;

export type Claims = {
  claim(entry: DlqEntry, claim: Claim): Promise<ClaimOutcome>;
  complete(entry: DlqEntry, revision: number, claim: Claim): Promise<void>;
  /** Gives the entry back (the operation failed before changing anything). */
  release(entry: DlqEntry, revision: number): Promise<void>;
  read(entry: DlqEntry): Promise<Claim | undefined>;
};

// By the sequence the entry was first stored with: a repair that renumbers the DLQ keeps its claim.
const keyOf = (e: DlqEntry) => `entry.${e.firstSeq}.${e.jobId.replace(/[^\w-]/g, '_')}`;

export async function openClaims(nc: NatsConnection): Promise<Claims> {
  const kv: KV = await new Kvm(nc).open(buckets.dlq);
  const current = async (key: string) => {
    const e = await kv.get(key);
    if (!e || e.operation !== 'PUT') return undefined;
    const parsed = claimSchema.safeParse(JSON.parse(e.string()));
    return parsed.success ? { claim: parsed.data, revision: e.revision } : undefined;
  };
  return {
    async claim(entry, claim) {
      const key = keyOf(entry);
      try {
        return { won: true, revision: await kv.create(key, JSON.stringify(claim)) };
      } catch (err) {
        const held = await current(key);
        if (!held) throw err;
        if (held.claim.state === 'claimed' && Date.now() - Date.parse(held.claim.at) > staleClaimMs) {
          // Take over a dead holder's claim, still compare-and-set: on the revision we read.
          const revision = await kv.update(key, JSON.stringify(claim), held.revision).catch(() => undefined);
          if (revision !== undefined) return { won: true, revision };
        }
        return { won: false, existing: held.claim };
      }
    },
    async complete(entry, revision, claim) {
      await kv.update(keyOf(entry), JSON.stringify({ ...claim, state: 'done', at: new Date().toISOString() }), revision);
    },
    async release(entry, revision) {
      await kv.delete(keyOf(entry), { previousSeq: revision });
    },
    async read(entry) {
      return (await current(keyOf(entry)))?.claim;
    },
  };
}
