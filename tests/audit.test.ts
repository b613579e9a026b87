// The no-loss audit against the real pipeline: a load run's ledger audits clean; an id the
// system never saw is lost (exit 1); a poison job counts as dead-lettered; a job stuck with an
// empty queue is lost; a job service-c did twice is a duplicate.
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditJobs } from '#operator/audit/audit.ts';
import { watchStatuses } from '#operator/audit/status-watch.ts';
import { tps } from '#devenv/cli.ts';
import { startNatsServer, type NatsServerHandle } from '#devenv/nats-server.ts';
import { postJob } from '#devenv/roles.ts';
import { settle, startStack, type Stack } from '#devenv/stack.ts';

let server: NatsServerHandle;
let stack: Stack;
const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-audit-'));
/** Every folder the tests make, removed at the end. */
const made = [dir];
const tempDir = (prefix: string) => { const d = mkdtempSync(path.join(os.tmpdir(), prefix)); made.push(d); return d; };
const ledger = path.join(dir, 'ledger.jsonl');
let env: Record<string, string>;

beforeAll(async () => {
  server = await startNatsServer();
  stack = await startStack(server.url);
  env = { NATS_URL: server.url, TPS_STATE_DIR: dir };
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await server?.dispose();
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

const line = (id: string, type: string) => `${JSON.stringify({ id, type, acceptedAt: new Date().toISOString() })}\n`;
type AuditJson = { accepted: number; completed: number; deadLettered: number; inFlight: number; lost: number; duplicates: number | null; lostIds: string[]; unknownIds: string[]; deadLetteredIds: string[]; ok: boolean };

describe('tps audit after tps load', () => {
  it('finds every accepted job completed and none lost', async () => {
    const load = await tps(['load', '--rate', '40', '--duration', '2s', '--url', stack.url('ingress'), '--ledger', ledger], env);
    expect(load.code).toBe(0);
    expect(load.stdout).toMatch(/jobs_accepted \.+ 80/);
    const audit = await tps(['audit', ledger, '--wait', '40s', '--json', '--service-c', stack.url('service-c')], env, { timeoutMs: 60_000 });
    expect(audit.stderr).toBe('');
    expect(audit.code).toBe(0);
    expect(JSON.parse(audit.stdout)).toMatchObject({ accepted: 80, completed: 80, deadLettered: 0, inFlight: 0, lost: 0, duplicates: 0, ok: true });
  }, 60_000);

  it('reports an id the system never saw as lost, a poison job as dead-lettered, and exits 1', async () => {
    const poison = await postJob(stack.url('ingress'), { type: 'fast.lookup', payload: { key: 42 } });
    const poisonId = String(poison.json.id);
    await settle(stack, [poisonId], 20_000);
    const never = randomUUID();
    const bad = path.join(dir, 'bad.jsonl');
    copyFileSync(ledger, bad);
    appendFileSync(bad, line(never, 'fast.echo') + line(poisonId, 'fast.lookup'));

    const audit = await tps(['audit', bad, '--wait', '0', '--json', '--service-c', stack.url('service-c')], env);
    expect(audit.code).toBe(1);
    expect(audit.stderr).toMatch(/1 accepted job was lost/);
    const result = JSON.parse(audit.stdout) as AuditJson;
    expect(result).toMatchObject({ accepted: 82, completed: 80, deadLettered: 1, lost: 1, lostIds: [never], unknownIds: [never], deadLetteredIds: [poisonId], ok: false });

    const text = await tps(['audit', bad, '--wait', '0', '--service-c', stack.url('service-c')], env);
    expect(text.stdout).toMatch(new RegExp(`lost \\(L = A - C - D - F\\) +1 +e\\.g\\. ${never} \\(unknown\\)`));
    expect(text.stdout).toMatch(/LOST: 1 accepted job/);
  }, 40_000);

  it('uses the newest ledger in .tps/load when none is named, and says so when there is none', async () => {
    const state = tempDir('tps-state-');
    mkdirSync(path.join(state, 'load'));
    const newest = path.join(state, 'load', 'ledger-2030-01-01T00-00-00Z.jsonl');
    copyFileSync(ledger, newest);
    const found = await tps(['audit', '--wait', '0', '--json'], { ...env, TPS_STATE_DIR: state });
    expect(found.code).toBe(0);
    expect(JSON.parse(found.stdout)).toMatchObject({ ledger: newest, accepted: 80, lost: 0 });
    const none = await tps(['audit'], { ...env, TPS_STATE_DIR: tempDir('tps-empty-') });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no ledger in .*load; run `tps load` first/);
  });
});

describe('tps audit refuses bad input', () => {
  it('a bad --wait (exit 2) and a ledger that is not one (exit 1, naming the line)', async () => {
    const wait = await tps(['audit', ledger, '--wait', 'forever'], env);
    expect(wait.code).toBe(2);
    expect(wait.stderr).toMatch(/--wait: expected a duration up to 1h/);
    const broken = path.join(dir, 'broken.jsonl');
    appendFileSync(broken, line(randomUUID(), 'fast.echo') + '{"id": 7}\n');
    const bad = await tps(['audit', broken], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/broken\.jsonl line 2: id: /);
    expect(bad.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });

  it('a NATS without the job status bucket (not provisioned, or a store lost with its host): exit 1, saying so', async () => {
    const bare = await startNatsServer();
    const one = path.join(dir, 'one.jsonl');
    appendFileSync(one, line(randomUUID(), 'fast.echo'));
    try {
      const found = await tps(['audit', one, '--wait', '1s'], { ...env, NATS_URL: bare.url, TPS_EXTERNAL_NATS: 'true' });
      expect(found.code).toBe(1);
      expect(found.stderr).toMatch(/this NATS has no tps_jobs bucket .*`tps provision`/);
      expect(found.stderr).not.toMatch(/unexpected error/);
    } finally {
      await bare.dispose();
    }
  });
});

describe('auditJobs', () => {
  it('counts a job stuck with an empty queue as lost, and a job service-c did twice as a duplicate', async () => {
    const ids = readFileSync(ledger, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; type: string });
    const report = ids.find((j) => j.type === 'slow.report');
    if (!report) throw new Error('the load run had no slow.report job');
    // The same job's side effect once more at service-c, as a redelivery would do it.
    const again = await fetch(`${stack.url('service-c')}/work`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': report.id },
      body: JSON.stringify({ jobId: report.id, type: 'slow.report' }),
    });
    expect(again.status).toBe(200);
    // A status says accepted, but no message is left on the fast queue to finish it.
    const stuck = randomUUID();
    await stack.status.record(stuck, { state: 'accepted', at: new Date().toISOString(), type: 'fast.echo', pool: 'fast' });

    const r = await auditJobs(stack.nc, [...ids.map((j) => j.id), stuck], { serviceCUrl: stack.url('service-c') });
    expect(r).toMatchObject({ accepted: 81, completed: 80, inFlight: 0, lost: 1, lostIds: [stuck], unknownIds: [], duplicates: 1, duplicateIds: [report.id] });
  });

  it('reads each job a lagging watch calls lost again before it says so', async () => {
    const ids = readFileSync(ledger, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
    const hidden = new Set(ids.slice(0, 5));
    // The watch of a replica that is behind: it never saw five jobs' statuses.
    const lagging: typeof watchStatuses = async (...args) => {
      const watch = await watchStatuses(...args);
      return { ...watch, view: (id) => (hidden.has(id) ? undefined : watch.view(id)) };
    };
    const r = await auditJobs(stack.nc, ids, { openWatch: lagging });
    expect(r).toMatchObject({ accepted: ids.length, completed: ids.length, lost: 0, unknownIds: [] });
  });

  it('replaces a watch that stops short of the bucket with a fresh one from where it stopped', async () => {
    // A watch's consumer that no longer delivers while the bucket grows: here it is removed on the
    // server (its node restarted; in a cluster, one on a replica still catching up stays silent
    // the same way). The client notices a removed consumer only after 10 s without heartbeats.
    const later = Array.from({ length: 20 }, () => randomUUID());
    const jsm = await jetstreamManager(stack.nc);
    const consumers = async () => (await jsm.consumers.list('KV_tps_jobs').next()).map((c) => c.name);
    const before = new Set(await consumers());
    const watch = await watchStatuses(stack.nc, new Set(later));
    try {
      await watch.catchUp(10_000);
      const its = (await consumers()).filter((name) => !before.has(name));
      expect(its).toHaveLength(1);
      await jsm.consumers.delete('KV_tps_jobs', its[0]!);
      for (const id of later) await stack.status.record(id, { state: 'accepted', at: new Date().toISOString(), type: 'fast.echo', pool: 'fast' });
      await watch.catchUp(4_000);
      for (const id of later) expect(watch.view(id)?.status, id).toBe('accepted');
    } finally {
      watch.stop();
    }
  });
});
