// A JetStream publisher for hot paths. Same protocol as `js.publish` (a core publish with a reply
// subject; the stream answers with a PubAck or an API error), minus two costs that dominate at
// thousands of publishes a second on a small machine:
//   - nats.js builds an Error (with a stack trace) for every request it completes;
//   - every publish made from its own I/O callback flushes its own socket write.
// Publishes requested during one turn of the event loop are sent together on the next check
// phase, with the connection's other deferred writes (outbox.ts: one write for many jobs), and
// acks are matched through one wildcard subscription.
import { createInbox, headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { connectionInboxPrefix } from './connect.ts';
import { outboxOf } from './outbox.ts';

export type PubAck = { stream: string; seq: number; duplicate: boolean };

export class PublishError extends Error {
  /** JetStream API error code (e.g. 10077 maximum messages exceeded), or 0 for no answer / no stream. */
  readonly code: number;
  readonly status: number;
  constructor(message: string, code: number, status: number) {
    super(message);
    this.name = 'PublishError';
    this.code = code;
    this.status = status;
  }
}

export type JetStreamPublisher = {
  publish(subject: string, data: Uint8Array, opts: { msgID?: string; headers?: MsgHdrs }): Promise<PubAck>;
  /** Fails every publish still waiting for its ack (e.g. when the connection dropped). */
  failPending(reason: string): void;
  close(): void;
};

type Pending = { resolve: (ack: PubAck) => void; reject: (err: Error) => void; deadline: number };
type Outgoing = { subject: string; data: Uint8Array; headers: MsgHdrs | undefined; reply: string };

export function createJetStreamPublisher(nc: NatsConnection, opts: { timeoutMs: number }): JetStreamPublisher {
  // Under the connection's own inbox prefix: its NATS user may subscribe there and nowhere else.
  const prefix = `${createInbox(connectionInboxPrefix(nc))}.`;
  const pending = new Map<string, Pending>();
  let outgoing: Outgoing[] = [];
  let counter = 0;

  const outbox = outboxOf(nc);
  const sub = nc.subscribe(`${prefix}*`, { callback: (err, msg) => { if (!err) settle(pending, msg); } });

  function sendAll(): void {
    const batch = outgoing;
    outgoing = [];
    for (const o of batch) send(nc, o, pending);
  }

  // One timer for all deadlines instead of one per publish.
  const sweeper = setInterval(() => failExpired(pending, opts.timeoutMs), Math.max(10, Math.min(100, opts.timeoutMs / 10)));
  sweeper.unref();

  return {
    publish(subject, data, { msgID, headers }) {
      return new Promise<PubAck>((resolve, reject) => {
        const reply = `${prefix}${(counter = (counter + 1) % Number.MAX_SAFE_INTEGER)}`;
        let h = headers;
        if (msgID) {
          h ??= natsHeaders();
          h.set('Nats-Msg-Id', msgID);
        }
        pending.set(reply, { resolve, reject, deadline: Date.now() + opts.timeoutMs });
        if (outgoing.length === 0) outbox.defer(sendAll);
        outgoing.push({ subject, data, headers: h, reply });
      });
    },
    failPending(reason) {
      for (const p of pending.values()) p.reject(new PublishError(reason, 0, 503));
      pending.clear();
    },
    close() {
      clearInterval(sweeper);
      sub.unsubscribe();
      this.failPending('publisher closed');
    },
  };
}

/** Settles the publish a reply answers: its PubAck, or the stream's error, or no stream at all. */
function settle(pending: Map<string, Pending>, msg: Msg): void {
  const p = pending.get(msg.subject);
  if (!p) return;
  pending.delete(msg.subject);
  if (msg.data.length === 0) {
    const status = msg.headers?.code ?? 0;
    p.reject(new PublishError(status === 503 ? 'no stream answers on this subject (no responders)' : `no PubAck (status ${status})`, 0, status || 503));
    return;
  }
  const body = msg.json<{ stream?: string; seq?: number; duplicate?: boolean; error?: { code: number; err_code: number; description: string } }>();
  if (body.error) p.reject(new PublishError(body.error.description, body.error.err_code, body.error.code));
  else p.resolve({ stream: body.stream ?? '', seq: body.seq ?? 0, duplicate: body.duplicate ?? false });
}

/** Sends one publish; one the connection refuses fails at once instead of at its deadline. */
function send(nc: NatsConnection, o: Outgoing, pending: Map<string, Pending>): void {
  try {
    nc.publish(o.subject, o.data, { reply: o.reply, ...(o.headers ? { headers: o.headers } : {}) });
  } catch (err) {
    const p = pending.get(o.reply);
    pending.delete(o.reply);
    p?.reject(new PublishError(`publish failed: ${(err as Error).message}`, 0, 503));
  }
}

function failExpired(pending: Map<string, Pending>, timeoutMs: number): void {
  const now = Date.now();
  for (const [reply, p] of pending) {
    if (p.deadline > now) continue;
    pending.delete(reply);
    p.reject(new PublishError(`no PubAck within ${timeoutMs} ms`, 0, 408));
  }
}
