// A TCP proxy the test controls, for the network faults a process stop cannot show:
// - a black hole (reliability matrix R5), between the roles and nats-server: every socket kept
//   open and nothing forwarded, as a dead route or a frozen peer does (no FIN, no RST), so a
//   client notices only by its own pings going unanswered;
// - between a worker and the service it calls (D5, Toxiproxy's toxics of the same names): answers
//   cut by a reset (RST) at random, every packet sliced into a few bytes, and a bandwidth limit;
// - between the roles and nats-server, acks lost on the way (R13): a proxy started with
//   `{ nats: true }` reads the clients' protocol frames and, while `dropAcks` is on, forwards every
//   frame but the `+ACK`s published to `$JS.ACK.>`, as if the network lost just those.
// Each direction of a connection forwards its chunks in order, shaped as the faults say when each
// chunk is forwarded.
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export type ProxyFaults = {
  /** The share (0..1) of answer chunks (target -> client) that reset both sockets instead. */
  resetShare: number;
  /** Forward in slices of at most this many bytes (0: whole chunks), `sliceDelayMs` apart. */
  sliceBytes: number;
  sliceDelayMs: number;
  /** Bytes per second each way (0: unlimited). */
  bytesPerSecond: number;
  /** NATS proxies only: JetStream acks from the clients are not forwarded. */
  dropAcks: boolean;
};

const noFaults: ProxyFaults = { resetShare: 0, sliceBytes: 0, sliceDelayMs: 0, bytesPerSecond: 0, dropAcks: false };

export type TcpProxy = {
  url: string;
  port: number;
  /** Stop forwarding, both ways, on every connection, and for new ones; close nothing. */
  blackhole(): void;
  /** Forward again (connections opened meanwhile stay dead: their handshake was swallowed). */
  heal(): void;
  /** Sets the network faults (unnamed ones off); `setFaults({})` clears them. */
  setFaults(faults: Partial<ProxyFaults>): void;
  /** Connections reset by `resetShare` so far. */
  resets(): number;
  /** Acks not forwarded by `dropAcks` so far. */
  droppedAcks(): number;
  close(): Promise<void>;
};

/** `target`: the port to forward to, or a function read at each new connection (a port known later). */
export async function startTcpProxy(target: number | (() => number), opts: { nats?: boolean } = {}): Promise<TcpProxy> {
  let blackholed = false;
  let faults = noFaults;
  let resets = 0;
  let droppedAcks = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    // A connection born in the black hole never gets its upstream's greeting: it stays dead.
    const bornDead = blackholed;
    const upstream = net.connect(typeof target === 'number' ? target : target(), '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => { sockets.delete(s); client.destroy(); upstream.destroy(); });
      s.on('error', () => undefined);
    }
    const reset = () => { resets += 1; client.resetAndDestroy(); upstream.destroy(); };
    const frames = opts.nats ? natsFrames((frame) => {
      if (!faults.dropAcks || !isAck(frame)) return true;
      droppedAcks += 1;
      return false;
    }) : undefined;
    forward(client, upstream, () => blackholed || bornDead, () => faults, undefined, frames);
    forward(upstream, client, () => blackholed || bornDead, () => faults, () => faults.resetShare > 0 && Math.random() < faults.resetShare && (reset(), true));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    blackhole: () => { blackholed = true; },
    heal: () => { blackholed = false; },
    setFaults: (f) => { faults = { ...noFaults, ...f }; },
    resets: () => resets,
    droppedAcks: () => droppedAcks,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Forwards `from`'s chunks to `to` in order, each shaped by the faults in force when it arrives
 * (and, given `frames`, only the whole protocol frames it keeps). */
function forward(from: net.Socket, to: net.Socket, swallowed: () => boolean, faults: () => ProxyFaults, resetInstead: () => boolean = () => false, frames?: (chunk: Buffer) => Buffer): void {
  let queue = Promise.resolve();
  from.on('data', (data: Buffer) => {
    if (swallowed()) return;
    const chunk = frames ? frames(data) : data;
    if (chunk.length === 0) return;
    const f = faults();
    if (f.sliceBytes === 0 && f.bytesPerSecond === 0) {
      queue = queue.then(() => { if (!resetInstead() && !to.destroyed) to.write(chunk); });
      return;
    }
    queue = queue.then(async () => {
      if (resetInstead()) return;
      const size = f.sliceBytes || chunk.length;
      for (let at = 0; at < chunk.length && !to.destroyed; at += size) {
        const part = chunk.subarray(at, at + size);
        const waitMs = (f.bytesPerSecond ? (part.length / f.bytesPerSecond) * 1000 : 0) + (f.sliceBytes ? f.sliceDelayMs : 0);
        if (waitMs > 0) await delay(waitMs);
        if (!to.destroyed) to.write(part);
      }
    });
  });
}

/**
 * The NATS client protocol cut into whole frames (an op line, and for PUB and HPUB the payload
 * after it, whose size ends the line): each chunk in gives the frames it completed that `keep`
 * keeps, a frame cut across chunks waiting for its end.
 */
function natsFrames(keep: (frame: Buffer) => boolean): (chunk: Buffer) => Buffer {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    const kept: Buffer[] = [];
    for (;;) {
      const eol = pending.indexOf('\r\n');
      if (eol === -1) break;
      const line = pending.subarray(0, eol).toString('latin1');
      const op = line.slice(0, 4).toUpperCase();
      const payload = op === 'PUB ' || op === 'HPUB' ? Number(line.trim().split(/\s+/).at(-1)) + 2 : 0;
      const end = eol + 2 + payload;
      if (pending.length < end) break;
      const frame = pending.subarray(0, end);
      if (keep(frame)) kept.push(frame);
      pending = pending.subarray(end);
    }
    return kept.length === 1 ? (kept[0] as Buffer) : Buffer.concat(kept);
  };
}

/** A `PUB $JS.ACK.<stream>.<consumer>...` whose payload is `+ACK` (not a nak, term or progress). */
function isAck(frame: Buffer): boolean {
  if (!frame.subarray(0, 12).toString('latin1').startsWith('PUB $JS.ACK.')) return false;
  const eol = frame.indexOf('\r\n');
  return frame.subarray(eol + 2, eol + 6).toString('latin1') === '+ACK';
}
