// The ingress against a real nats-server: what is accepted is stored with its id, its status
// can be read back, bad input never reaches a queue, the rate limit answers 429, and the role
// serves its health and metric contract. Refusals of a full queue: ingress-shedding.test.ts.
import { describe, expect, it } from 'vitest';
import { waitFor } from '#devenv/nats-server.ts';
import { useIngressFixture } from '#devenv/ingress-fixture.ts';
import { postJob } from '#devenv/roles.ts';

const f = useIngressFixture();
const ingress = f.ingress;
const storedJobs = f.storedJobs;

describe('accepting jobs', () => {
  it('stores each accepted job in its pool stream, on its subject, with its id as message id', async () => {
    const base = await ingress();
    const fast = await postJob(base, { type: 'fast.echo', payload: { n: 1 } });
    const slow = await postJob(base, { type: 'slow.report' });
    expect(fast.status).toBe(202);
    expect(fast.json).toMatchObject({ pool: 'fast', status: 'accepted' });
    expect(slow.json).toMatchObject({ pool: 'slow', status: 'accepted' });

    const [storedFast] = await storedJobs('JOBS_FAST');
    expect(storedFast).toMatchObject({ subject: 'jobs.fast.echo', id: fast.json.id });
    expect(storedFast?.body).toMatchObject({ id: fast.json.id, type: 'fast.echo', pool: 'fast', payload: { n: 1 } });
    const [storedSlow] = await storedJobs('JOBS_SLOW');
    expect(storedSlow).toMatchObject({ subject: 'jobs.slow.report', id: slow.json.id });
  });

  it('turns the same Idempotency-Key into the same job, stored once', async () => {
    const base = await ingress();
    const first = await postJob(base, { type: 'fast.lookup' }, { 'idempotency-key': 'order-42' });
    const again = await postJob(base, { type: 'fast.lookup' }, { 'idempotency-key': 'order-42' });
    const other = await postJob(base, { type: 'fast.lookup' }, { 'idempotency-key': 'order-43' });
    expect([first.status, again.status, other.status]).toEqual([202, 202, 202]);
    expect(again.json.id).toBe(first.json.id);
    expect(again.json.duplicate).toBe(true);
    expect(other.json.id).not.toBe(first.json.id);
    const ids = (await storedJobs('JOBS_FAST')).map((s) => s.id);
    expect(ids.sort()).toEqual([first.json.id, other.json.id].sort());
  });

  it('reports job status by id, and 404 for an unknown id', async () => {
    const base = await ingress();
    const { json } = await postJob(base, { type: 'fast.echo' });
    const status = await waitFor(async () => {
      const res = await fetch(`${base}/jobs/${json.id}`);
      return res.status === 200 ? ((await res.json()) as Record<string, unknown>) : undefined;
    }, 5_000, () => 'job status');
    expect(status).toMatchObject({ id: json.id, status: 'accepted', pool: 'fast', type: 'fast.echo' });
    expect(typeof status.acceptedAt).toBe('string');
    const unknown = await fetch(`${base}/jobs/00000000-0000-4000-8000-000000000000`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'JOB_NOT_FOUND' });
    expect((await fetch(`${base}/jobs/not-an-id`)).status).toBe(400);
  });
});

describe('bad input', () => {
  const cases: Array<[string, RequestInit, number, string]> = [
    ['malformed JSON', { body: '{"type": "fast.echo"', headers: { 'content-type': 'application/json' } }, 400, 'INVALID_JSON'],
    ['empty body', { body: '', headers: { 'content-type': 'application/json' } }, 400, 'INVALID_JSON'],
    ['wrong content type', { body: 'type=fast.echo', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['text/plain', { body: '{"type":"fast.echo"}', headers: { 'content-type': 'text/plain' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['unknown type', { body: '{"type":"fast.nope"}', headers: { 'content-type': 'application/json' } }, 400, 'UNKNOWN_JOB_TYPE'],
    ['missing type', { body: '{"payload":{}}', headers: { 'content-type': 'application/json' } }, 400, 'INVALID_REQUEST'],
    ['extra field', { body: '{"type":"fast.echo","priority":1}', headers: { 'content-type': 'application/json' } }, 400, 'INVALID_REQUEST'],
    ['payload not an object', { body: '{"type":"fast.echo","payload":[1]}', headers: { 'content-type': 'application/json' } }, 400, 'INVALID_REQUEST'],
    ['__proto__ key', { body: '{"type":"fast.echo","payload":{"__proto__":{"admin":true}}}', headers: { 'content-type': 'application/json' } }, 400, 'INVALID_REQUEST'],
    ['constructor.prototype', { body: '{"type":"fast.echo","payload":{"constructor":{"prototype":{"x":1}}}}', headers: { 'content-type': 'application/json' } }, 400, 'INVALID_REQUEST'],
    ['oversize body', { body: JSON.stringify({ type: 'fast.echo', payload: { blob: 'x'.repeat(5_000) } }), headers: { 'content-type': 'application/json' } }, 413, 'BODY_TOO_LARGE'],
    ['bad idempotency key', { body: '{"type":"fast.echo"}', headers: { 'content-type': 'application/json', 'idempotency-key': 'has space' } }, 400, 'INVALID_IDEMPOTENCY_KEY'],
  ];

  it.each(cases)('%s gets %i %s and enqueues nothing', async (_name, init, status, code) => {
    const base = await ingress({ MAX_BODY_BYTES: '4096' });
    const res = await fetch(`${base}/jobs`, { method: 'POST', ...init });
    expect(res.status).toBe(status);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.code).toBe(code);
    expect(typeof body.message).toBe('string');
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+|stack/i);
    expect((await f.jsm.streams.info('JOBS_FAST')).state.messages).toBe(0);
  });

  it('says what is wrong with a body in the words of what was sent', async () => {
    const base = await ingress();
    const said = async (body: unknown) => (await postJob(base, body)).json.message;
    expect(await said({ payload: {} })).toBe('The request does not match the schema. type is required');
    expect(await said({ type: 'fast.echo', priority: 1 })).toBe('The request does not match the schema. unknown field "priority"');
    expect(await said({ type: 'fast.echo', payload: [1] })).toBe('The request does not match the schema. payload must be an object (got a list)');
  });
});

describe('rate limit', () => {
  it('answers 429 RATE_LIMITED with Retry-After beyond the configured rate', async () => {
    const base = await ingress({ RATE_LIMIT_RPS: '5' });
    const answers = await Promise.all(Array.from({ length: 12 }, () => postJob(base, { type: 'fast.echo' })));
    const limited = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status === 202).length).toBe(5);
    expect(limited.length).toBe(7);
    expect(limited[0]?.json.code).toBe('RATE_LIMITED');
    expect(Number(limited[0]?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await f.jsm.streams.info('JOBS_FAST')).state.messages).toBe(5);
  });
});

describe('health and metrics', () => {
  it('serves /healthz, /readyz and the metric contract', async () => {
    const base = await ingress();
    await postJob(base, { type: 'fast.echo' });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { nats: true, queues: true } });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/tps_jobs_submitted_total\{pool="fast",type="fast.echo"\} 1/);
    expect(metrics).toMatch(/tps_http_request_duration_seconds_bucket\{.*service="ingress",route="\/jobs",method="POST",code="202"/);
    expect(metrics).toContain('process_cpu_seconds_total');
  });
});
