// HTTP over a bare socket, for what fetch will not send: oversized headers, garbage, and clients
// that send a byte at a time (slowloris). Each returns what the server wrote and when it closed.
import net from 'node:net';

export type RawAnswer = { text: string; status: number; body: Record<string, unknown> | undefined; closedAfterMs: number };

function answerOf(text: string, closedAfterMs: number): RawAnswer {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  const raw = text.slice(text.indexOf('\r\n\r\n') + 4);
  let body: Record<string, unknown> | undefined;
  try { body = JSON.parse(raw) as Record<string, unknown>; } catch { body = undefined; }
  return { text, status, body, closedAfterMs };
}

/** Writes `data` at once; resolves when the server closes the connection (or `timeoutMs` passes). */
export function rawRequest(port: number, data: string, timeoutMs = 10_000): Promise<RawAnswer> {
  return slowClient(port, data, '', timeoutMs).answer;
}

export type SlowClient = { answer: Promise<RawAnswer>; stop(): void };

/**
 * Sends `head` at once, then `drip` one byte every `everyMs` (from its start again when it runs
 * out), for as long as the server keeps the connection open. The answer comes when it closes;
 * after `timeoutMs` the client gives up and the promise rejects (the server held it).
 */
export function slowClient(port: number, head: string, drip: string, timeoutMs = 10_000, everyMs = 100): SlowClient {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  const started = performance.now();
  let text = '';
  let next = 0;
  const timer = drip ? setInterval(() => { if (socket.writable) socket.write(drip[next++ % drip.length] ?? ''); }, everyMs) : undefined;
  const answer = new Promise<RawAnswer>((resolve, reject) => {
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server still held the connection after ${timeoutMs} ms (it answered: ${JSON.stringify(text.slice(0, 200))})`));
    }, timeoutMs);
    socket.on('data', (d: Buffer) => { text += d.toString('latin1'); });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve(answerOf(text, performance.now() - started));
    });
  });
  socket.write(head);
  return { answer, stop: () => { clearInterval(timer); socket.destroy(); } };
}
