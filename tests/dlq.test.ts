// DLQ operations on the real pipeline: jobs dead-lettered by a fault replay and complete once the
// fault is fixed; two racing replays of one entry make one job; --dry-run changes nothing; purge
// removes exactly the selected entries; the admin API refuses missing or wrong tokens.
import type { FailureCodeName } from '#platform/dlq/failure-codes.ts';
import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders, type Msg } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDlqOperations } from '#platform/dlq/operations.ts';
import { encodeJob, newJobId } from '#platform/job-message.ts';
import { streams } from '#platform/nats/subjects.ts';
import { auditJobs } from '#operator/audit/audit.ts';
import { publishDeadLetter } from '#platform/dlq/dead-letter.ts';
import { tps } from '#devenv/cli.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { injectFault, metricValue, settle, startStack, submit, type Stack } from '#devenv/stack.ts';

const token = randomBytes(24).toString('hex');
let server: NatsServerHandle;
let stack: Stack;
let js: JetStreamClient;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startNatsServer();
  // Breakers that never open here: every failed attempt of the replay test fails with the injected
  // fault's code, not CIRCUIT_OPEN once the worker's breaker has seen enough of them.
  // The admin API's tests here send more than its default 20 requests a second from one address
  // on a fast run (a 429 in CI); its rate limit has a test of its own (admin-api-limits).
  stack = await startStack(server.url, { ADMIN_API: 'true', ADMIN_TOKEN: token, ADMIN_RATE_LIMIT_RPS: '1000', BREAKER_RESET_MS: '1s', BREAKER_VOLUME: '100000' });
  js = jetstream(stack.nc);
  env = { NATS_URL: server.url };
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await server?.dispose();
});

type Listed = { total: number; groups: Array<{ pool: string; type: string; code: string; count: number; seqs: number[] }> };
const dlqList = async (args: string[] = []) => JSON.parse((await tps(['dlq', 'list', '--json', ...args], env)).stdout) as Listed;
const dlqDepth = async () => (await jetstreamManager(stack.nc)).streams.info(streams.dlq).then((i) => i.state.messages);

/** A dead letter as the workers write it, for a job that never ran (so the test controls its code). */
async function deadLetter(code: FailureCodeName, extraHeaders: Record<string, string> = {}): Promise<string> {
  const id = newJobId();
  const h = natsHeaders();
  for (const [k, v] of Object.entries(extraHeaders)) h.set(k, v);
  const now = new Date().toISOString();
  await publishDeadLetter(js, encodeJob({ id, type: 'fast.echo', pool: 'fast', acceptedAt: now }), h, {
    jobId: id, type: 'fast.echo', pool: 'fast', failure: { code, message: `test failure ${code}` }, reason: 'retries_exhausted',
    attempts: 4, firstFailure: now, lastFailure: now, originalSubject: 'jobs.fast.echo', originalSeq: 1, by: 'test',
  });
  return id;
}

describe('replay', () => {
  it('drains the DLQ after the fault is fixed: every job completes, nothing is lost', async () => {
    await injectFault(stack, { target: 'service-a', fault: 'error_rate', params: { ratio: 1 } });
    const ids = await submit(stack, 'fast.echo', 4);
    const failed = await settle(stack, ids, 30_000);
    expect([...failed.values()].map((v) => v.status)).toEqual(ids.map(() => 'dead_lettered'));
    await stack.chaos.clear('service-a', 'error_rate', 'test');

    const listed = await dlqList(['--code', 'FAULT_INJECTED']);
    expect(listed.groups).toEqual([expect.objectContaining({ pool: 'fast', type: 'fast.echo', code: 'FAULT_INJECTED', count: 4 })]);
    const [first] = listed.groups[0]?.seqs ?? [];
    const shown = await tps(['dlq', 'show', String(first)], env);
    expect(shown.stdout).toMatch(/Error: {5}FAULT_INJECTED: /);
    expect(shown.stdout).toMatch(/retries_exhausted after 4 attempts/);

    const ops = await openDlqOperations(stack.nc);
    const dry = await ops.replay({ filter: { code: 'FAULT_INJECTED' } }, { ratePerSecond: 10, dryRun: true, by: 'test' });
    expect(dry.map((o) => o.outcome)).toEqual(['would_replay', 'would_replay', 'would_replay', 'would_replay']);
    expect(await dlqDepth()).toBe(4);

    const replayed = await tps(['dlq', 'replay', '--code', 'FAULT_INJECTED', '--rate', '50'], env);
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toMatch(/Replayed 4, skipped 0, failed 0\./);
    const newIds = [...replayed.stdout.matchAll(/as job ([0-9a-f-]{36})/g)].map((m) => m[1] ?? '');
    expect(newIds).toHaveLength(4);
    const done = await settle(stack, newIds, 30_000);
    expect([...done.values()].map((v) => v.status)).toEqual(newIds.map(() => 'completed'));
    expect(await dlqDepth()).toBe(0);
    // The originals point at their replacements, and the no-loss audit follows them.
    expect((await stack.status.read(ids[0] as string))?.replayedAs).toBeDefined();
    const audit = await auditJobs(stack.nc, ids);
    expect(audit).toMatchObject({ accepted: 4, completed: 4, deadLettered: 0, replayed: 4, inFlight: 0, lost: 0 });
    await waitFor(async () => ((await metricValue(stack.url('worker-fast'), /^tps_dlq_depth\{pool="fast"\}/)) === 0 ? true : undefined), 10_000, () => 'tps_dlq_depth to drop');
    await waitFor(async () => ((await metricValue(stack.url('worker-fast'), /^tps_dlq_replayed_total\{pool="fast",reason="FAULT_INJECTED"\}/)) === 4 ? true : undefined), 10_000, () => 'tps_dlq_replayed_total');
    // A second replay of the same entries finds nothing: replayed entries left the DLQ.
    expect(await ops.replay({ filter: { code: 'FAULT_INJECTED' } }, { ratePerSecond: 10, dryRun: false, by: 'test' })).toEqual([]);
    ops.close();
  }, 60_000);

  it('two racing replays of one entry make one job, which links to the original trace', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const original = await deadLetter('OVERLOADED', { traceparent });
    const ops = await Promise.all([openDlqOperations(stack.nc), openDlqOperations(stack.nc)]);
    const seq = (await ops[0].list({ code: 'OVERLOADED' }))[0]?.seq ?? 0;
    const published: Msg[] = [];
    const sub = stack.nc.subscribe('jobs.fast.>', { callback: (_e, m) => { published.push(m); } });
    // Two operators at once: two CLI processes and two in-process replays, all for the same entry.
    const [cliA, cliB, ...inProcess] = await Promise.all([
      tps(['dlq', 'replay', String(seq), '--json'], env),
      tps(['dlq', 'replay', String(seq), '--json'], env),
      ...ops.map((o) => o.replay({ filter: { ids: [seq] } }, { ratePerSecond: 100, dryRun: false, by: 'test' })),
    ]);
    const outcomes = [
      ...[cliA, cliB].flatMap((r) => (JSON.parse(r.stdout) as { outcomes: Array<{ outcome: string; newJobId?: string }> }).outcomes),
      ...inProcess.flat(),
    ];
    expect(outcomes.filter((o) => o.outcome === 'replayed')).toHaveLength(1);
    // The two in-process replays both found the entry: the claim, not luck, decided.
    expect(inProcess.flat().map((o) => o.outcome).sort()).toEqual(['replayed', 'skipped']);
    const newJobId = (outcomes.find((o) => o.outcome === 'replayed') as { newJobId: string }).newJobId;
    await settle(stack, [newJobId], 20_000);
    sub.unsubscribe();
    for (const o of ops) o.close();
    const jobs = published.filter((m) => m.json<{ replayOf?: string }>().replayOf === original);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.json<{ id: string }>().id).toBe(newJobId);
    expect(jobs[0]?.headers?.get('Tps-Replay-Of')).toBe(original);
    expect(jobs[0]?.headers?.get('Tps-Trace-Link')).toBe(traceparent);
  }, 60_000);
});

describe('purge', () => {
  it('removes exactly the filtered entries, only when confirmed; --dry-run changes nothing', async () => {
    const keep = [await deadLetter('UNKNOWN_JOB_TYPE'), await deadLetter('UNKNOWN_JOB_TYPE')];
    const gone = [await deadLetter('BAD_MESSAGE'), await deadLetter('BAD_MESSAGE'), await deadLetter('BAD_MESSAGE')];
    const before = await dlqDepth();
    const dry = await tps(['dlq', 'purge', '--code', 'BAD_MESSAGE', '--dry-run'], env);
    expect(dry.stdout).toMatch(/Dry run: 3 would be purged\. Nothing changed\./);
    const unconfirmed = await tps(['dlq', 'purge', '--code', 'BAD_MESSAGE'], env);
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toMatch(/confirm with --yes/);
    expect(await dlqDepth()).toBe(before);
    const everything = await tps(['dlq', 'purge', '--yes'], env);
    expect(everything.code).toBe(2);
    expect(everything.stderr).toMatch(/Name the entries \(ids\) or a filter/);

    const purged = await tps(['dlq', 'purge', '--code', 'BAD_MESSAGE', '--yes', '--json'], env);
    const outcomes = (JSON.parse(purged.stdout) as { outcomes: Array<{ outcome: string; jobId: string }> }).outcomes;
    expect(outcomes.map((o) => [o.outcome, o.jobId]).sort()).toEqual(gone.map((id) => ['purged', id]).sort());
    expect(await dlqDepth()).toBe(before - 3);
    const left = await tps(['dlq', 'list', '--entries', '--json', '--code', 'UNKNOWN_JOB_TYPE'], env);
    expect((JSON.parse(left.stdout) as Array<{ jobId: string }>).map((e) => e.jobId).sort()).toEqual([...keep].sort());
  }, 60_000);
});

describe('the admin API', () => {
  const call = (path: string, init: RequestInit & { auth?: string } = {}) => fetch(`${stack.url('admin')}${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', ...(init.auth ? { authorization: init.auth } : {}) },
  });

  it('refuses a missing or wrong token, and answers the right one', async () => {
    for (const auth of [undefined, `Bearer ${token.slice(0, -1)}x`, 'Bearer short', `Basic ${token}`, token]) {
      const res = await call('/admin/dlq', auth ? { auth } : {});
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await res.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    }
    const ok = await call('/admin/dlq', { auth: `Bearer ${token}` });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ groups: expect.any(Array) });
  });

  it('does what the CLI does, with catalogue errors for bad requests', async () => {
    const auth = `Bearer ${token}`;
    const scaled = await call('/admin/scale', { method: 'POST', auth, body: JSON.stringify({ pool: 'slow', slots: 12 }) });
    expect(scaled.status).toBe(200);
    await waitFor(async () => ((await metricValue(stack.url('worker-slow'), /^tps_worker_slots\{pool="slow"\}/)) === 12 ? true : undefined), 10_000, () => 'slots 12');
    const tooMany = await call('/admin/scale', { method: 'POST', auth, body: JSON.stringify({ pool: 'slow', slots: 1000 }) });
    expect(tooMany.status).toBe(400);
    expect(await tooMany.json()).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(/from 1 to 64/) });
    const breaker = await call('/admin/breakers/open', { method: 'POST', auth, body: JSON.stringify({ name: 'nope' }) });
    expect(breaker.status).toBe(404);
    expect(await breaker.json()).toMatchObject({ code: 'BREAKER_NOT_FOUND' });
    const purge = await call('/admin/dlq/purge', { method: 'POST', auth, body: JSON.stringify({ code: 'UNKNOWN_JOB_TYPE' }) });
    expect(purge.status).toBe(428);
    expect(await purge.json()).toMatchObject({ code: 'CONFIRMATION_REQUIRED' });
    const missing = await call('/admin/dlq/999999', { auth });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'DLQ_ENTRY_NOT_FOUND' });
    // Alive once the autoscaler's first report is in (this test may run first, right after the start).
    const status = await waitFor(async () => {
      const answer = await (await call('/admin/autoscaler', { auth })).json() as { status?: { alive?: boolean } };
      return answer.status?.alive ? answer : undefined;
    }, 10_000, () => 'the autoscaler to report', 100);
    expect(status).toMatchObject({ enabled: true, status: { alive: true } });

    // Live parameters, as `tps config` sets them: applied by the roles, recorded with the API as the one who set it.
    const set = await call('/admin/config', { method: 'POST', auth, body: JSON.stringify({ name: 'breaker.reset-ms', value: '2s', reason: 'runbook 6.1' }) });
    expect(await set.json()).toEqual({ name: 'breaker.reset-ms', value: 2000 });
    await waitFor(async () => ((await metricValue(stack.url('service-a'), /^tps_config_parameter\{name="breaker\.reset-ms"\}/)) === 2000 ? true : undefined), 10_000, () => 'service-a at a 2 s reset');
    const listed = (await (await call('/admin/config', { auth })).json()) as Array<{ name: string; override?: { value: number; by: string; reason?: string } }>;
    expect(listed.find((p) => p.name === 'breaker.reset-ms')?.override).toMatchObject({ value: 2000, by: expect.stringMatching(/^admin-api/), reason: 'runbook 6.1' });
    const bad = await call('/admin/config', { method: 'POST', auth, body: JSON.stringify({ name: 'breaker.reset-ms', value: 5 }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(/breaker\.reset-ms must be between 100 ms and 600000 ms; got 5 ms/) });
    const reset = await call('/admin/config/reset', { method: 'POST', auth, body: JSON.stringify({ all: true }) });
    expect(await reset.json()).toEqual({ reset: [{ name: 'breaker.reset-ms', previous: 2000 }] });
    const unauthorised = await call('/admin/config', { method: 'POST', body: JSON.stringify({ name: 'breaker.reset-ms', value: 1000 }) });
    expect(unauthorised.status).toBe(401);
  });

  it('sets and clears process faults as `tps chaos` does, recorded as the API; refuses system faults and bad parameters', async () => {
    const auth = `Bearer ${token}`;
    const post = (path: string, body: unknown, withAuth = true) => call(path, { method: 'POST', ...(withAuth ? { auth } : {}), body: JSON.stringify(body) });
    const set = await post('/admin/chaos', { target: 'service-c', fault: 'latency', params: { ms: 300 }, durationMs: 60_000 });
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({ fault: { target: 'service-c', fault: 'latency', params: { ms: 300, jitter: 0, ratio: 1 }, by: expect.stringMatching(/^admin-api/) } });
    // The same bucket `tps chaos` reads.
    expect((await tps(['chaos', 'list'], { NATS_URL: server.url })).stdout).toMatch(/service-c\s+latency\s+ms=300/);
    for (const [body, message] of [
      [{ target: 'nats', fault: 'nats_down' }, /nats_down is a system fault/],
      [{ target: 'service-c', fault: 'latency', params: { ms: 0 } }, /ms must be at least 1/],
      [{ target: 'service-z', fault: 'hang' }, /unknown target "service-z"/],
    ] as const) {
      const refused = await post('/admin/chaos', body);
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(message) });
    }
    expect((await post('/admin/chaos', { target: 'service-c', fault: 'hang' }, false)).status).toBe(401);
    expect((await post('/admin/chaos/clear', { target: 'autoscaler', fault: 'autoscaler_down' })).status).toBe(400);
    const cleared = await post('/admin/chaos/clear', { target: 'service-c' });
    expect(await cleared.json()).toMatchObject({ cleared: [{ target: 'service-c', fault: 'latency' }] });
    expect(await (await call('/admin/chaos', { auth })).json()).toEqual({ faults: [] });
  });

  it('is not started without a token: the autoscaler refuses to start, saying why', async () => {
    const r = await tps(['run', 'autoscaler'], { NATS_URL: server.url, HTTP_PORT: '0', ADMIN_API: 'true' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ADMIN_API is on but ADMIN_TOKEN is not set/);
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });
});
