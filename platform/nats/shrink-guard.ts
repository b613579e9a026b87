// What a stream update would delete. nats-server applies a smaller max_msgs, max_bytes,
// max_age or max_msgs_per_subject to the messages a stream already holds (2.9.10: a stream of
// 100 updated to max_msgs 50 keeps 50, even with discard: new), so provisioning must look before
// it updates: an accepted job is never deleted by a configuration change unless the operator
// names how many may go (`tps provision --force STREAM=N`).
import type { JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import type { StreamDecl } from './topology.ts';

export type StreamLoss = {
  stream: string;
  holds: number;
  /** Messages the update would delete (at least this many when `approximate`). */
  wouldDelete: number;
  approximate: boolean;
  /** Which limits cause it, e.g. "max_msgs 100 -> 50". */
  because: string[];
};

const lowered = (declared: number | undefined, current: number | undefined): declared is number =>
  declared !== undefined && declared > 0 && (current === undefined || current <= 0 || declared < current);

export async function streamLoss(jsm: JetStreamManager, decl: StreamDecl, info: StreamInfo): Promise<StreamLoss | undefined> {
  const { config, state } = info;
  if (state.messages === 0) return undefined;
  const counts: number[] = [];
  const because: string[] = [];
  let approximate = false;
  if (lowered(decl.max_msgs, config.max_msgs) && state.messages > decl.max_msgs) {
    counts.push(state.messages - decl.max_msgs);
    because.push(`max_msgs ${config.max_msgs} -> ${decl.max_msgs}`);
  }
  if (lowered(decl.max_bytes, config.max_bytes) && state.bytes > decl.max_bytes) {
    counts.push(Math.max(1, Math.ceil((state.messages * (state.bytes - decl.max_bytes)) / state.bytes)));
    because.push(`max_bytes ${config.max_bytes} -> ${decl.max_bytes} (holds ${state.bytes} bytes)`);
    approximate = true;
  }
  if (lowered(decl.max_age, config.max_age)) {
    const older = olderThan(info, decl.max_age);
    if (older > 0) {
      counts.push(older);
      because.push(`max_age ${seconds(config.max_age)} -> ${seconds(decl.max_age)}`);
      approximate = approximate || older < state.messages;
    }
  }
  if (lowered(decl.max_msgs_per_subject, config.max_msgs_per_subject)) {
    const over = await overPerSubject(jsm, decl.name, decl.max_msgs_per_subject);
    if (over > 0) {
      counts.push(over);
      because.push(`max_msgs_per_subject ${config.max_msgs_per_subject} -> ${decl.max_msgs_per_subject}`);
    }
  }
  if (counts.length === 0) return undefined;
  return { stream: decl.name, holds: state.messages, wouldDelete: Math.min(state.messages, Math.max(...counts)), approximate: approximate || counts.length > 1, because };
}

const seconds = (nanos: number) => (nanos <= 0 ? 'unlimited' : nanos < 1e9 ? `${nanos / 1e6}ms` : `${Math.round(nanos / 1e9)}s`);

/** Messages stored before now - maxAge, estimated from the first and last timestamps (a lookup
 * by time needs nats-server 2.11; this must run on 2.9). At least 1 when the first is older. */
function olderThan(info: StreamInfo, maxAgeNanos: number): number {
  const cutoff = Date.now() - maxAgeNanos / 1e6;
  const first = Date.parse(info.state.first_ts);
  const last = Date.parse(info.state.last_ts);
  if (first >= cutoff) return 0;
  if (last < cutoff || last <= first) return info.state.messages;
  return Math.max(1, Math.ceil((info.state.messages * (cutoff - first)) / (last - first)));
}

async function overPerSubject(jsm: JetStreamManager, stream: string, limit: number): Promise<number> {
  const detail = await jsm.streams.info(stream, { subjects_filter: '>' });
  return Object.values(detail.state.subjects ?? {}).reduce((sum, count) => sum + Math.max(0, count - limit), 0);
}

/** The operator's --force: how many messages of which stream may go. */
export type ForcedLosses = Readonly<Record<string, number>>;

export function refusal(losses: readonly StreamLoss[]): string {
  const lines = losses.map((l) =>
    `  - ${l.stream} holds ${l.holds} message${l.holds === 1 ? '' : 's'}; ${l.because.join(', ')} would delete ${l.approximate ? 'about ' : ''}${l.wouldDelete} of them`);
  const force = losses.map((l) => `${l.stream}=${l.wouldDelete}`).join(',');
  return [
    'Provisioning refused: it would delete messages the streams hold (accepted jobs, dead letters or job states):',
    ...lines,
    'Nothing was changed. Drain first (let the workers work the queue down, stop the load, or `tps dlq replay|purge`),',
    'or keep the larger limit; to delete them on purpose, name how many may go:',
    `  tps provision --force ${force}`,
  ].join('\n');
}
