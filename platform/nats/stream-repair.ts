// A stream whose delete map names sequences past its last message. nats-server 2.9.10 (Debian's,
// which `make up` and the compose image run) keeps each message block's deleted sequences in the
// block's index file; after a power cut that kept the index file but not the block's last writes
// (docs/reliability.md, R8), it rebuilds the block from what the disk kept and keeps the old delete
// map. The stream then ends before sequences it believes deleted, gives those sequences to its
// next messages, and treats those messages as deleted: a job accepted with a 202 is never
// delivered (nor counted right: "59 messages" over 58 sequences), a status or a DLQ entry cannot
// be read. Seen in CI and in tests/power-cut.test.ts. (2.9.15 drops the map of a block that kept
// nothing; Debian ships 2.9.10.) Here provisioning (every `tps up`, compose's provision step)
// makes such a stream whole before anything writes to it: a purge drops its blocks, stale map and all, and starts a
// clean one after the same last sequence. What the stream still held is kept through a holding
// stream around the purge, so a provisioning stopped half way loses nothing: its next run puts
// back what the holding stream has, each copy with the sequence and time its message first had
// (originHeaders). The copies are new messages to the stream's consumers: a job
// queue's workers get its queued jobs again (a resurrected one that had completed, twice: at least
// once); the one limits stream with a durable consumer (ADVISORIES) deletes nothing, so it is never
// found so.
import { JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import { headers as newHeaders, type MsgHdrs } from '@nats-io/transport-node';

/** Where a stream's messages wait while it is purged; made for a repair, deleted after it. */
export const holdingStream = 'TPS_REPAIR';
const holdingSubject = (stream: string) => `tps.repair.${stream}`;
const subjectHeader = 'Tps-Repair-Subject';
const seqHeader = 'Tps-Repair-Seq';
/**
 * Where and when a message was first stored, kept on its copies: the copies a repair puts back get
 * new sequences and times, and what names a message by its sequence (a DLQ entry's claim and its
 * replay's job id, platform/dlq/claims.ts) or shows its time reads these first
 * (platform/dlq/entries.ts). Set by a message's first repair, carried through later ones.
 */
export const originHeaders = { seq: 'Tps-Origin-Seq', time: 'Tps-Origin-Time' } as const;
/** Headers of the original publish that must not come along: a copy is a new publish. */
const publishOnly = new Set(['nats-msg-id', 'nats-expected-stream', 'nats-expected-last-msg-id', 'nats-expected-last-sequence', 'nats-expected-last-subject-sequence']);

/** The sequences past the stream's last message that its delete map names (none on a sound stream). */
export async function staleDeletes(jsm: JetStreamManager, stream: string): Promise<{ info: StreamInfo; stale: number[] }> {
  const info = await jsm.streams.info(stream, { deleted_details: true });
  return { info, stale: (info.state.deleted ?? []).filter((seq) => seq > info.state.last_seq) };
}

/** Said of a stream found so, by provisioning and by a role that refuses to start on it. */
export function staleReason(stale: readonly number[], lastSeq: number): string {
  return `its delete map names ${stale.length} sequence(s) past its last message ${lastSeq} (nats-server 2.9 after a power cut): messages given those sequences would be lost`;
}

/** Once the streams are applied: finishes a repair a stopped run left, then makes whole every
 * declared stream that needs it; returns what it found and did, a line per stream. */
export async function repairStreams(jsm: JetStreamManager, js: JetStreamClient, names: readonly string[]): Promise<{ stream: string; done: string }[]> {
  const done = (await resumeRepairs(jsm, js)).map((stream) => ({ stream, done: 'a repair stopped half way was finished: what the stream held is back in it' }));
  for (const stream of names) {
    const found = await staleDeletes(jsm, stream);
    if (found.stale.length > 0) done.push({ stream, done: await repairStream(jsm, js, found.info, found.stale) });
  }
  return done;
}

/** Makes the stream whole (see above); returns what was found and done, for the report. */
async function repairStream(jsm: JetStreamManager, js: JetStreamClient, info: StreamInfo, stale: readonly number[]): Promise<string> {
  const stream = info.config.name;
  const found = staleReason(stale, info.state.last_seq);
  if (info.state.messages === 0) {
    await jsm.streams.purge(stream);
    return `${found}; purged (it held no message), its sequences go on from ${info.state.last_seq + 1}`;
  }
  await openHolding(jsm, info.config.num_replicas);
  const held = await copyOut(jsm, js, info);
  await jsm.streams.purge(stream);
  await putBack(jsm, js, stream);
  await jsm.streams.delete(holdingStream);
  return `${found}; its ${held} message(s) held aside, the stream purged, and put back in order`;
}

/**
 * Finishes a repair that stopped half way (a holding stream is left): where the stream was purged,
 * what it held goes back; where it was not, the copies go (the stream still has the originals) and
 * the repair starts again. Returns the streams it finished.
 */
async function resumeRepairs(jsm: JetStreamManager, js: JetStreamClient): Promise<string[]> {
  const holding = await jsm.streams.info(holdingStream, { subjects_filter: '>' }).catch(() => undefined);
  if (!holding) return [];
  const finished: string[] = [];
  for (const subject of Object.keys(holding.state.subjects ?? {})) {
    const stream = subject.slice(holdingSubject('').length);
    const { stale } = await staleDeletes(jsm, stream);
    if (stale.length > 0) {
      await jsm.streams.purge(holdingStream, { filter: subject });
    } else {
      await putBack(jsm, js, stream);
      finished.push(stream);
    }
  }
  await jsm.streams.delete(holdingStream);
  return finished;
}

async function openHolding(jsm: JetStreamManager, replicas: number): Promise<void> {
  const exists = await jsm.streams.info(holdingStream).then(() => true, () => false);
  if (!exists) {
    await jsm.streams.add({ name: holdingStream, subjects: [holdingSubject('>')], retention: RetentionPolicy.Limits, storage: StorageType.File, num_replicas: replicas });
  }
}

/** Copies every message the stream holds into the holding stream, oldest first; returns how many. */
async function copyOut(jsm: JetStreamManager, js: JetStreamClient, info: StreamInfo): Promise<number> {
  const stream = info.config.name;
  let copied = 0;
  await eachMessage(jsm, stream, async (m) => {
    const h = copyHeaders(m.headers);
    h.set(subjectHeader, m.subject);
    h.set(seqHeader, String(m.seq));
    if (!h.has(originHeaders.seq)) {
      h.set(originHeaders.seq, String(m.seq));
      h.set(originHeaders.time, m.time.toISOString());
    }
    // The id makes a copy retried after a lost ack one copy.
    await js.publish(holdingSubject(stream), m.data, { headers: h, msgID: `${stream}:${m.seq}` });
    copied += 1;
  });
  return copied;
}

/** Publishes the held messages of `stream` back to it in order, each deleted from the holding stream once stored. */
async function putBack(jsm: JetStreamManager, js: JetStreamClient, stream: string): Promise<void> {
  await eachMessage(jsm, holdingStream, async (m) => {
    if (m.subject !== holdingSubject(stream)) return;
    const subject = m.headers?.get(subjectHeader);
    if (!subject) throw new Error(`${holdingStream} message ${m.seq} has no ${subjectHeader} header: cannot tell where it goes back`);
    const h = copyHeaders(m.headers, new Set([subjectHeader.toLowerCase(), seqHeader.toLowerCase()]));
    // Put back once, even when a stopped run had put it back already (the duplicate window).
    await js.publish(subject, m.data, { headers: h, msgID: `repair:${stream}:${m.headers?.get(seqHeader) ?? m.seq}` });
    await jsm.streams.deleteMessage(holdingStream, m.seq, false);
  });
}

type Held = { seq: number; time: Date; subject: string; data: Uint8Array; headers: MsgHdrs | undefined };

/** Each message of the stream, oldest first, one read by sequence at a time: a work-queue stream
 * takes no second consumer, and the deleted sequences (`deleted`) are not asked for. */
async function eachMessage(jsm: JetStreamManager, stream: string, each: (m: Held) => Promise<void>): Promise<void> {
  const { state } = await jsm.streams.info(stream, { deleted_details: true });
  const deleted = new Set(state.deleted ?? []);
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    if (deleted.has(seq)) continue;
    const m = await jsm.streams.getMessage(stream, { seq }).catch((err: unknown) => {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) return null;
      throw err;
    });
    if (m) await each({ seq: m.seq, time: m.time, subject: m.subject, data: m.data, headers: m.header });
  }
}

function copyHeaders(from: MsgHdrs | undefined, drop: ReadonlySet<string> = new Set()): MsgHdrs {
  const h = newHeaders();
  if (!from) return h;
  for (const key of from.keys()) {
    const lower = key.toLowerCase();
    if (publishOnly.has(lower) || drop.has(lower)) continue;
    for (const v of from.values(key)) h.append(key, v);
  }
  return h;
}
