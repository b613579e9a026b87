// The ingress's load shedding against a real nats-server: a full queue is refused at once
// (503 QUEUE_FULL with Retry-After) and never holds more than its capacity; once a queue is known
// full the refusal comes before the body is read (every queue full) or before the route and the
// rate limit (one queue full), while every other request reaches the route with its body intact.
import { once } from 'node:events';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { waitFor } from '#devenv/nats-server.ts';
import { useIngressFixture } from '#devenv/ingress-fixture.ts';
import { postJob } from '#devenv/roles.ts';

const f = useIngressFixture();
const ingress = f.ingress;
const storedJobs = f.storedJobs;

/** A POST /jobs over a raw socket whose body is written in two pieces a moment apart; the answer as text. */
async function splitPost(base: string, body: string): Promise<string> {
  const { hostname, port } = new URL(base);
  const socket = net.connect(Number(port), hostname);
  socket.setNoDelay(true);
  await once(socket, 'connect');
  let answer = '';
  socket.on('data', (d: Buffer) => { answer += d.toString(); });
  const closed = once(socket, 'close');
  const half = Math.floor(body.length / 2);
  socket.write(`POST /jobs HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body.slice(0, half)}`);
  // Not a synchronisation: only so that the server is likely to read the body in two reads.
  await new Promise((resolve) => setTimeout(resolve, 50));
  // write, not end: a client that half-closes has its request aborted by node:http.
  socket.write(body.slice(half));
  await closed;
  return answer;
}

describe('a full queue', () => {
  it('answers 503 QUEUE_FULL with Retry-After, never holds more than capacity, and every 202 is stored', async () => {
    const capacity = 25;
    const base = await ingress({ FAST_QUEUE_CAPACITY: String(capacity), QUEUE_POLL_MS: '50' });
    const answers = await Promise.all(Array.from({ length: 80 }, () => postJob(base, { type: 'fast.echo' })));
    const accepted = answers.filter((a) => a.status === 202);
    const full = answers.filter((a) => a.status === 503);
    expect(accepted.length + full.length).toBe(answers.length);
    expect(accepted.length).toBe(capacity);
    for (const r of full) {
      expect(r.json.code).toBe('QUEUE_FULL');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    const stored = await storedJobs('JOBS_FAST');
    expect(stored.length).toBe(capacity);
    expect(new Set(stored.map((s) => s.id))).toEqual(new Set(accepted.map((a) => a.json.id)));

    // The slow pool still has room: a full fast queue does not block slow jobs.
    expect((await postJob(base, { type: 'slow.export' })).status).toBe(202);
  });

  it('refuses before reading the body once every queue is known to be full', async () => {
    const base = await ingress({ FAST_QUEUE_CAPACITY: '2', SLOW_QUEUE_CAPACITY: '2', QUEUE_POLL_MS: '50' });
    for (const type of ['fast.echo', 'fast.echo', 'slow.report', 'slow.report']) expect((await postJob(base, { type })).status).toBe(202);
    const refused = await waitFor(async () => {
      // A malformed body proves the decision was made without parsing it.
      const r = await postJob(base, '{not json');
      return r.status === 503 ? r : undefined;
    }, 5_000, () => 'all-full rejection');
    expect(refused.json.code).toBe('QUEUE_FULL');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/tps_jobs_rejected_total\{pool="unknown",reason="queue_full"\} [1-9]/);
    // Answered before Fastify, yet still in the request duration histogram.
    expect(metrics).toMatch(/tps_http_request_duration_seconds_count\{service="ingress",route="\/jobs",method="POST",code="503"\} [1-9]/);
    expect(metrics).toMatch(/tps_queue_depth\{pool="fast"\} 2/);
    expect(metrics).toMatch(/tps_queue_capacity\{pool="slow"\} 2/);
  });
});

describe('one queue full', () => {
  /** An ingress whose fast queue is full (and known to be), with room in the slow queue. */
  async function fastFull(env: Record<string, string> = {}): Promise<string> {
    const base = await ingress({ FAST_QUEUE_CAPACITY: '2', QUEUE_POLL_MS: '50', MAX_BODY_BYTES: '4096', ...env });
    for (let i = 0; i < 2; i++) expect((await postJob(base, { type: 'fast.echo' })).status).toBe(202);
    await waitFor(async () => /tps_queue_depth\{pool="fast"\} 2\n/.test(await (await fetch(`${base}/metrics`)).text()), 5_000, () => 'the ingress to see the fast queue full');
    return base;
  }

  it('refuses jobs for the full pool before the rate limit sees them', async () => {
    // Through Fastify, a limit of 3 a second would answer most of this burst with 429.
    const base = await fastFull({ RATE_LIMIT_RPS: '3' });
    const answers = await Promise.all(Array.from({ length: 12 }, () => postJob(base, { type: 'fast.lookup', payload: { n: 1 } })));
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(503));
    for (const r of answers) {
      expect(r.json.code).toBe('QUEUE_FULL');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/tps_jobs_rejected_total\{pool="fast",reason="queue_full"\} 12\n/);
    expect(metrics).toMatch(/tps_http_request_duration_seconds_count\{service="ingress",route="\/jobs",method="POST",code="503"\} 12\n/);
    expect((await f.jsm.streams.info('JOBS_FAST')).state.messages).toBe(2);
  });

  it('hands every other request on to the route, body intact', async () => {
    const base = await fastFull();
    const slow = await postJob(base, { type: 'slow.report', payload: { region: 'emea', n: 7 } }, { 'idempotency-key': 'report-7' });
    expect(slow.status).toBe(202);
    const [stored] = await storedJobs('JOBS_SLOW');
    expect(stored).toMatchObject({ subject: 'jobs.slow.report', id: slow.json.id });
    expect(stored?.body.payload).toEqual({ region: 'emea', n: 7 });
    expect((await postJob(base, { type: 'slow.report', payload: { region: 'emea', n: 7 } }, { 'idempotency-key': 'report-7' })).json).toMatchObject({ id: slow.json.id, duplicate: true });

    // A bad request gets the same answer as with room in the queue: the body is checked first.
    const bad: Array<[string, RequestInit, number, string]> = [
      ['extra field', { body: '{"type":"fast.echo","priority":1}', headers: { 'content-type': 'application/json' } }, 400, 'INVALID_REQUEST'],
      ['malformed JSON', { body: '{"type":"fast.echo"', headers: { 'content-type': 'application/json' } }, 400, 'INVALID_JSON'],
      ['unknown type', { body: '{"type":"fast.nope"}', headers: { 'content-type': 'application/json' } }, 400, 'UNKNOWN_JOB_TYPE'],
      ['__proto__ key', { body: '{"type":"fast.echo","payload":{"__proto__":{"a":1}}}', headers: { 'content-type': 'application/json' } }, 400, 'INVALID_REQUEST'],
      ['oversize body', { body: JSON.stringify({ type: 'fast.echo', payload: { blob: 'x'.repeat(5_000) } }), headers: { 'content-type': 'application/json' } }, 413, 'BODY_TOO_LARGE'],
      ['text/plain', { body: '{"type":"fast.echo"}', headers: { 'content-type': 'text/plain' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ];
    for (const [name, init, status, code] of bad) {
      const res = await fetch(`${base}/jobs`, { method: 'POST', ...init });
      expect({ name, status: res.status, code: ((await res.json()) as { code: string }).code }).toEqual({ name, status, code });
    }

    // A body of unknown length (chunked) is left to the route, which still tells the pools apart.
    const chunked = (body: string) => fetch(`${base}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(body)); c.close(); } }),
      duplex: 'half',
    } as RequestInit);
    expect((await chunked('{"type":"fast.echo"}')).status).toBe(503);
    // A body that arrives in pieces is decided once it is whole.
    expect(await splitPost(base, '{"type":"fast.echo","payload":{"part":1}}')).toMatch(/^HTTP\/1\.1 503 [^]*"code":"QUEUE_FULL"/);
    expect(await splitPost(base, '{"type":"slow.report","payload":{"part":2}}')).toMatch(/^HTTP\/1\.1 202 /);
    expect((await storedJobs('JOBS_SLOW')).map((j) => j.body.payload)).toContainEqual({ part: 2 });
    expect((await chunked('{"type":"slow.export","payload":{"n":2}}')).status).toBe(202);
    expect((await f.jsm.streams.info('JOBS_SLOW')).state.messages).toBe(3);
    expect((await f.jsm.streams.info('JOBS_FAST')).state.messages).toBe(2);
  });
});
