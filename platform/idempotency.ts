// Idempotency-Keys in a bucket of their own (`tps_idempotency`), apart from job status: the status
// bucket may evict under load, this one never forgets a key inside its TTL (IDEMPOTENCY_TTL, 24 h
// by default) and, when full, refuses new keys (discard: new) instead of dropping old ones.
// A key's record binds it to one job id and one request body (its fingerprint). The first use
// claims the key with a create (compare-and-set on "no entry yet"), so concurrent first uses of a
// key agree on one job; `stored` turns true once JetStream has acknowledged that job.
import { createHash } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { jobIdPattern } from './job-message.ts';
import { createJetStreamPublisher, PublishError } from './nats/jetstream-publisher.ts';
import { buckets } from './nats/subjects.ts';
import { poolNames } from './pools.ts';
import { isStreamFull } from './nats/stream-errors.ts';

export const idempotencyRecordSchema = z.object({
  id: z.string().regex(jobIdPattern),
  /** SHA-256 of the request body in canonical form (requestFingerprint). */
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  pool: z.enum(poolNames),
  claimedAt: z.iso.datetime(),
  stored: z.boolean(),
});
export type IdempotencyRecord = z.infer<typeof idempotencyRecordSchema>;

/** Claimed by this call; held by an earlier claim (its record); or refused, the store being full. */
export type Claim = { kind: 'claimed' } | { kind: 'held'; record: IdempotencyRecord } | { kind: 'full' };

export type IdempotencyStore = {
  claim(key: string, record: IdempotencyRecord): Promise<Claim>;
  /** Marks the key's job stored. The record it writes is never larger than the claim it replaces,
   * so it fits even when the store is full (nats-server lets a same-size replacement through). */
  confirm(key: string, record: IdempotencyRecord): Promise<void>;
  close(): void;
};

/** JetStream API error code of a publish: the subject has an entry already. */
const wrongLastSequence = 10071;

/** KV keys allow only [-/_=.a-zA-Z0-9]; an Idempotency-Key is any visible ASCII, so it is hashed. */
const storeKey = (key: string) => createHash('sha256').update(key).digest('hex');

/** The same type and payload give the same fingerprint, whatever the order of object keys. */
export function requestFingerprint(type: string, payload: unknown): string {
  return createHash('sha256').update(JSON.stringify([type, canonical(payload ?? null)])).digest('hex');
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  return Object.fromEntries(Object.keys(object).sort().map((k) => [k, canonical(object[k])]));
}

export async function openIdempotencyStore(nc: NatsConnection, opts: { timeoutMs: number }): Promise<IdempotencyStore> {
  const kv: KV = await new Kvm(jetstream(nc, { timeout: opts.timeoutMs })).open(buckets.idempotency);
  const publisher = createJetStreamPublisher(nc, { timeoutMs: opts.timeoutMs });
  const subject = (key: string) => `$KV.${buckets.idempotency}.${storeKey(key)}`;
  const encode = (record: IdempotencyRecord) => Buffer.from(JSON.stringify(record));

  /** Writes the record only if the key's last revision is `expected` (0: no entry). */
  async function create(key: string, record: IdempotencyRecord, expected: number): Promise<'claimed' | 'held' | 'full'> {
    const h = headers();
    h.set('Nats-Expected-Last-Subject-Sequence', String(expected));
    try {
      await publisher.publish(subject(key), encode(record), { headers: h });
      return 'claimed';
    } catch (err) {
      if (err instanceof PublishError && err.code === wrongLastSequence) return 'held';
      if (isStreamFull(err)) return 'full';
      throw err;
    }
  }

  return {
    async claim(key, record) {
      let expected = 0;
      // A key deleted by an operator (a delete marker) or expiring just now is claimed again.
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const outcome = await create(key, record, expected);
        if (outcome !== 'held') return { kind: outcome };
        const entry = await kv.get(storeKey(key));
        if (entry?.operation === 'PUT') return { kind: 'held', record: parseRecord(entry) };
        expected = entry?.revision ?? 0;
      }
      throw new Error(`the ${buckets.idempotency} entry of an Idempotency-Key kept changing while it was claimed`);
    },
    async confirm(key, record) {
      await publisher.publish(subject(key), encode({ ...record, stored: true }), {});
    },
    close: () => publisher.close(),
  };
}

function parseRecord(entry: KvEntry): IdempotencyRecord {
  const parsed = idempotencyRecordSchema.safeParse(JSON.parse(entry.string()));
  if (!parsed.success) throw new Error(`${buckets.idempotency} holds a record that is not one (revision ${entry.revision}): ${parsed.error.message}`);
  return parsed.data;
}
