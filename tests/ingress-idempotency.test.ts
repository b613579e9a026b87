// Idempotency-Keys against a real nats-server and the real ingress (reliability matrix R11, R12):
// a retry gets the original job at any time inside the key's window, also after JetStream's
// duplicate window and after the status bucket forgot the job; a key reused for another body is
// refused; concurrent first uses of a key make one job; a full store refuses new keys, forgets
// none, and the status bucket's fill is exported before it evicts.
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestFingerprint } from '#platform/idempotency.ts';
import { provision, ProvisionRefused } from '#platform/nats/provision.ts';
import { declareTopology } from '#platform/nats/topology.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { postJob, provisioned, startTestRole, testConfig } from '#devenv/roles.ts';

type Setup = { server: NatsServerHandle; nc: NatsConnection; jsm: JetStreamManager; base: string; stop: () => Promise<void> };

/** A nats-server of its own and an ingress, both configured by `env`, for one describe block. */
function withIngress(env: Record<string, string>): Setup {
  const s = {} as Setup;
  beforeAll(async () => {
    s.server = await startNatsServer();
    s.nc = await provisioned(s.server.url, env);
    s.jsm = await jetstreamManager(s.nc);
    const role = await startTestRole('ingress', testConfig(s.server.url, env));
    s.stop = role.stop;
    s.base = `http://127.0.0.1:${role.result}`;
  });
  afterAll(async () => {
    await s.stop?.();
    await s.nc?.close();
    await s.server?.dispose();
  });
  return s;
}

/** The Nats-Msg-Id (job id) of every message a stream holds. */
async function storedIds(jsm: JetStreamManager, stream = 'JOBS_FAST'): Promise<string[]> {
  const info = await jsm.streams.info(stream);
  const ids: string[] = [];
  for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
    const msg = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (msg) ids.push(msg.header?.get('Nats-Msg-Id') ?? '');
  }
  return ids;
}

/**
 * Returns once JetStream's duplicate window has passed for everything published so far: a probe
 * published now is stored a second time only when its own window is over. The probes are removed.
 */
async function afterDuplicateWindow(s: Setup): Promise<void> {
  const js = jetstream(s.nc);
  const probe = `probe-${randomUUID()}`;
  const first = await js.publish('jobs.fast.echo', '{}', { msgID: probe });
  const again = await waitFor(async () => {
    const ack = await js.publish('jobs.fast.echo', '{}', { msgID: probe });
    return ack.duplicate ? undefined : ack;
  }, 15_000, () => 'the duplicate window to pass');
  for (const seq of [first.seq, again.seq]) await s.jsm.streams.deleteMessage('JOBS_FAST', seq);
}

const metricValue = async (base: string, name: string) =>
  Number(/^(\S+) (\S+)$/m.exec((await (await fetch(`${base}/metrics`)).text()).split('\n').find((l) => l.startsWith(`${name} `)) ?? '')?.[2]);

describe('a key inside its window', () => {
  const s = withIngress({ JOBS_DUPLICATE_WINDOW: '1s' });

  it('(R12a) a retry within the duplicate window answers the same job, stored once', async () => {
    const first = await postJob(s.base, { type: 'fast.echo', payload: { n: 1 } }, { 'idempotency-key': 'r12a' });
    const again = await postJob(s.base, { type: 'fast.echo', payload: { n: 1 } }, { 'idempotency-key': 'r12a' });
    expect([first.status, again.status]).toEqual([202, 202]);
    expect(first.json.duplicate).toBeUndefined();
    expect(again.json).toMatchObject({ id: first.json.id, pool: 'fast', duplicate: true });
    expect((await storedIds(s.jsm)).filter((id) => id === first.json.id)).toHaveLength(1);
  });

  it('(R12b) a retry after the duplicate window, the status evicted, still answers the original job', async () => {
    const body = { type: 'fast.lookup', payload: { order: 42 } };
    const first = await postJob(s.base, body, { 'idempotency-key': 'r12b' });
    expect(first.status).toBe(202);
    await afterDuplicateWindow(s);
    // What an eviction of the status bucket does: GET /jobs/:id no longer knows the job.
    await s.jsm.streams.purge('KV_tps_jobs');
    expect((await fetch(`${s.base}/jobs/${first.json.id}`)).status).toBe(404);

    const again = await postJob(s.base, body, { 'idempotency-key': 'r12b' });
    expect(again.status).toBe(202);
    expect(again.json).toMatchObject({ id: first.json.id, pool: 'fast', status: 'accepted', duplicate: true });
    expect((await storedIds(s.jsm)).filter((id) => id === first.json.id)).toHaveLength(1);
  });

  it('answers 422 IDEMPOTENCY_KEY_REUSED to the key with another body, and queues nothing', async () => {
    const first = await postJob(s.base, { type: 'slow.report', payload: { region: 'emea', n: 7 } }, { 'idempotency-key': 'reused' });
    const depth = (await s.jsm.streams.info('JOBS_SLOW')).state.messages;
    for (const other of [{ type: 'slow.report', payload: { region: 'apac', n: 7 } }, { type: 'slow.export', payload: { region: 'emea', n: 7 } }, { type: 'slow.report' }]) {
      const res = await postJob(s.base, other, { 'idempotency-key': 'reused' });
      expect(res.status).toBe(422);
      expect(res.json.code).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(String(res.json.message)).toContain(String(first.json.id));
    }
    expect((await s.jsm.streams.info('JOBS_SLOW')).state.messages).toBe(depth);
    // The same body with its object keys in another order is the same body.
    const reordered = await postJob(s.base, '{"payload":{"n":7,"region":"emea"},"type":"slow.report"}', { 'idempotency-key': 'reused' });
    expect(reordered.json).toMatchObject({ id: first.json.id, duplicate: true });
    expect(requestFingerprint('t', { a: 1, b: [{ c: 1, d: 2 }] })).toBe(requestFingerprint('t', { b: [{ d: 2, c: 1 }], a: 1 }));
  });

  it('makes one job of concurrent first uses of a key, whichever body claims it first', async () => {
    const same = await Promise.all(Array.from({ length: 20 }, () => postJob(s.base, { type: 'fast.echo', payload: { burst: 1 } }, { 'idempotency-key': 'burst' })));
    expect(same.map((r) => r.status)).toEqual(Array(20).fill(202));
    const id = same[0]?.json.id;
    expect(same.filter((r) => r.json.id !== id)).toEqual([]);
    expect(same.filter((r) => r.json.duplicate !== true)).toHaveLength(1);
    expect((await storedIds(s.jsm)).filter((x) => x === id)).toHaveLength(1);

    const mixed = await Promise.all(Array.from({ length: 20 }, (_, i) => postJob(s.base, { type: 'fast.echo', payload: { v: i % 2 } }, { 'idempotency-key': 'race' })));
    const accepted = mixed.filter((r) => r.status === 202);
    const winner = accepted[0]?.json.id;
    expect(accepted).toHaveLength(10);
    expect(accepted.filter((r) => r.json.id !== winner)).toEqual([]);
    expect(mixed.filter((r) => r.status === 422 && r.json.code === 'IDEMPOTENCY_KEY_REUSED')).toHaveLength(10);
    expect((await storedIds(s.jsm)).filter((x) => x === winner)).toHaveLength(1);
  });

  it('exports the bytes of the status bucket and of the idempotency store against their limits', async () => {
    for (let i = 0; i < 20; i++) await postJob(s.base, { type: 'fast.echo' }, { 'idempotency-key': `gauge-${i}` });
    for (const [stream, metric] of [['KV_tps_jobs', 'tps_job_status'], ['KV_tps_idempotency', 'tps_idempotency']] as const) {
      await waitFor(async () => {
        const { state, config } = await s.jsm.streams.info(stream);
        const [bytes, limit] = [await metricValue(s.base, `${metric}_bytes`), await metricValue(s.base, `${metric}_limit_bytes`)];
        return bytes === state.bytes && bytes > 0 && limit === config.max_bytes;
      }, 10_000, () => `${metric}_bytes to equal the bytes ${stream} holds`);
    }
    expect(await metricValue(s.base, 'tps_job_status_limit_bytes')).toBe(256 * 1024 * 1024);
    expect(await metricValue(s.base, 'tps_idempotency_limit_bytes')).toBe(256 * 1024 * 1024);
  });
});

describe('a key after its window', () => {
  const s = withIngress({ JOBS_DUPLICATE_WINDOW: '1s', IDEMPOTENCY_TTL: '2s' });

  it('is a new job: the window is IDEMPOTENCY_TTL, not forever', async () => {
    const first = await postJob(s.base, { type: 'fast.echo' }, { 'idempotency-key': 'expires' });
    expect((await s.jsm.streams.info('KV_tps_idempotency')).state.messages).toBe(1);
    await waitFor(async () => (await s.jsm.streams.info('KV_tps_idempotency')).state.messages === 0, 15_000, () => 'the key to expire');
    const later = await postJob(s.base, { type: 'fast.echo' }, { 'idempotency-key': 'expires' });
    expect(later.status).toBe(202);
    expect(later.json.id).not.toBe(first.json.id);
    expect(later.json.duplicate).toBeUndefined();
  });
});

describe('(R11) a full idempotency store', () => {
  const maxBytes = 32 * 1024;
  const s = withIngress({ IDEMPOTENCY_MAX_BYTES: String(maxBytes) });

  it('refuses new keys with 503 IDEMPOTENCY_STORE_FULL, still honours the keys it holds, forgets none', async () => {
    const accepted = new Map<string, string>();
    let refused = 0;
    for (let batch = 0; refused === 0; batch++) {
      if (batch > 50) throw new Error(`the store took ${accepted.size} keys and was never full`);
      const keys = Array.from({ length: 8 }, (_, i) => `fill-${batch * 8 + i}`);
      const answers = await Promise.all(keys.map((key) => postJob(s.base, { type: 'fast.echo' }, { 'idempotency-key': key })));
      answers.forEach((r, i) => {
        if (r.status === 202) accepted.set(keys[i] ?? '', String(r.json.id));
        else if (r.status === 503 && r.json.code === 'IDEMPOTENCY_STORE_FULL') refused += 1;
        else throw new Error(`unexpected ${r.status} ${JSON.stringify(r.json)}`);
      });
    }
    for (let i = 0; i < 5; i++) {
      const late = await postJob(s.base, { type: 'fast.echo' }, { 'idempotency-key': `late-${i}` });
      expect(late.status).toBe(503);
      expect(late.json.code).toBe('IDEMPOTENCY_STORE_FULL');
      expect(Number(late.headers.get('retry-after'))).toBeGreaterThan(0);
      refused += 1;
    }
    // Every key it took is still there and answered, and every 202 is a stored job (no 202 without storage).
    const store = (await s.jsm.streams.info('KV_tps_idempotency')).state;
    expect(store.messages).toBe(accepted.size);
    expect(store.bytes).toBeLessThanOrEqual(maxBytes);
    const stored = new Set(await storedIds(s.jsm));
    expect([...accepted.values()].filter((id) => !stored.has(id))).toEqual([]);
    const [firstKey, firstId] = [...accepted.entries()][0] ?? [];
    expect((await postJob(s.base, { type: 'fast.echo' }, { 'idempotency-key': firstKey ?? '' })).json).toMatchObject({ id: firstId, duplicate: true });
    expect((await postJob(s.base, { type: 'fast.echo' })).status).toBe(202);
    expect(await metricValue(s.base, 'tps_jobs_rejected_total{pool="fast",reason="idempotency_store_full"}')).toBe(refused);
    console.log(`R11 figures: ${accepted.size} keys accepted, ${refused} refused, store ${store.bytes} of ${maxBytes} bytes (${Math.round(store.bytes / accepted.size)} bytes a key), lost 0`);

    // Provisioning a smaller store would delete keys inside their window: refused, nothing changes.
    const smaller = provision(s.nc, declareTopology(testConfig(s.server.url, { IDEMPOTENCY_MAX_BYTES: String(maxBytes / 2) })));
    await expect(smaller).rejects.toBeInstanceOf(ProvisionRefused);
    await expect(smaller).rejects.toThrow(new RegExp(`KV_tps_idempotency holds ${accepted.size} messages; max_bytes ${maxBytes} -> ${maxBytes / 2}`));
    expect((await s.jsm.streams.info('KV_tps_idempotency')).state.messages).toBe(accepted.size);
  });
});
