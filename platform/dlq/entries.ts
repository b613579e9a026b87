// Reading the dead-letter queue: one entry per DLQ stream message, identified by its stream
// sequence, with the failure record from its headers and the original job envelope.
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import { decodeJob, type JobMessage } from '../job-message.ts';
import { readToEnd } from '../nats/read-to-end.ts';
import { originHeaders } from '../nats/stream-repair.ts';
import { streams } from '../nats/subjects.ts';
import { dlqHeaders } from './headers.ts';

export type DlqEntry = {
  /** The DLQ stream sequence: the entry's id for `tps dlq show|replay|purge`. */
  seq: number;
  /** The sequence the entry was first stored with: its seq, unless a repair of the DLQ after a
   * power cut renumbered it (platform/nats/stream-repair.ts). What claims and replays key on, so a
   * replayed entry that is still there (its delete failed) is never replayed a second time. */
  firstSeq: number;
  subject: string;
  deadLetteredAt: string;
  jobId: string;
  type: string;
  pool: string;
  code: string;
  message: string;
  reason: string;
  attempts: number;
  firstFailure?: string;
  lastFailure?: string;
  traceId?: string;
  traceparent?: string;
  by?: string;
  headers: Record<string, string[]>;
  /** The original job envelope when it is a valid one (replayable); `data` is the raw text. */
  job?: JobMessage;
  data: string;
};

type RawMessage = { seq: number; subject: string; time: Date; headers?: MsgHdrs; data: Uint8Array };

export function toEntry(raw: RawMessage): DlqEntry {
  const h = (name: string) => raw.headers?.get(name) || undefined;
  const headers: Record<string, string[]> = {};
  for (const key of raw.headers?.keys() ?? []) headers[key] = raw.headers?.values(key) ?? [];
  const data = Buffer.from(raw.data).toString('utf8');
  const job = (() => { try { return decodeJob(raw.data); } catch { return undefined; } })();
  const [, pool = 'unknown', name = 'unknown'] = raw.subject.split('.');
  const optional = {
    firstFailure: h(dlqHeaders.firstFailure), lastFailure: h(dlqHeaders.lastFailure), traceId: h(dlqHeaders.traceId),
    traceparent: h('traceparent'), by: h(dlqHeaders.by),
  };
  const firstSeq = Number(h(originHeaders.seq));
  return {
    seq: raw.seq,
    firstSeq: Number.isInteger(firstSeq) && firstSeq > 0 ? firstSeq : raw.seq,
    subject: raw.subject,
    deadLetteredAt: h(originHeaders.time) ?? raw.time.toISOString(),
    jobId: h(dlqHeaders.jobId) ?? job?.id ?? `seq-${raw.seq}`,
    type: h(dlqHeaders.jobType) ?? job?.type ?? `${pool}.${name}`,
    pool: h(dlqHeaders.pool) ?? job?.pool ?? pool,
    code: h(dlqHeaders.errorCode) ?? 'UNKNOWN',
    message: h(dlqHeaders.errorMessage) ?? '',
    reason: h(dlqHeaders.reason) ?? 'unknown',
    attempts: Number(h(dlqHeaders.attempts) ?? 0) || 0,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    headers,
    ...(job ? { job } : {}),
    data,
  };
}

/** One entry by sequence, or undefined when there is none (replayed, purged or never existed). */
export async function readEntry(jsm: JetStreamManager, seq: number): Promise<DlqEntry | undefined> {
  const m = await jsm.streams.getMessage(streams.dlq, { seq });
  return m ? toEntry({ seq: m.seq, subject: m.subject, time: m.time, headers: m.header, data: m.data }) : undefined;
}

/** Every entry, oldest first (the DLQ holds at most DLQ_CAPACITY, 10 000 by default). */
export async function readEntries(js: JetStreamClient, jsm: JetStreamManager): Promise<DlqEntry[]> {
  const info = await jsm.streams.info(streams.dlq);
  if (info.state.messages === 0) return [];
  const consumer = await js.consumers.get(streams.dlq, { deliver_policy: DeliverPolicy.All });
  const out: DlqEntry[] = [];
  await readToEnd(consumer, (m) => out.push(toEntry({ seq: m.seq, subject: m.subject, time: m.time, headers: m.headers, data: m.data })));
  return out;
}

export type DlqGroup = { pool: string; type: string; code: string; count: number; oldest: string; newest: string; seqs: number[] };

/** Entries grouped by pool, type and error code: what broke, how often, since when. */
export function groupEntries(entries: readonly DlqEntry[]): DlqGroup[] {
  const groups = new Map<string, DlqGroup>();
  for (const e of entries) {
    const key = `${e.pool}\u0000${e.type}\u0000${e.code}`;
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { pool: e.pool, type: e.type, code: e.code, count: 1, oldest: e.deadLetteredAt, newest: e.deadLetteredAt, seqs: [e.seq] });
      continue;
    }
    g.count += 1;
    g.seqs.push(e.seq);
    if (e.deadLetteredAt < g.oldest) g.oldest = e.deadLetteredAt;
    if (e.deadLetteredAt > g.newest) g.newest = e.deadLetteredAt;
  }
  return [...groups.values()].sort((a, b) => a.pool.localeCompare(b.pool) || b.count - a.count || a.type.localeCompare(b.type));
}
