// `tps events`, the audit trail, against a real nats-server with the topology and no roles: the
// changes other commands made are listed with who made them, oldest first, filtered by kind and
// time, capped by --limit; bad flags are refused with the reason.
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tps } from '#devenv/cli.ts';
import { startNatsServer, type NatsServerHandle } from '#devenv/nats-server.ts';
import { provisioned } from '#devenv/roles.ts';
import { publishAuditEvent } from '#platform/nats/audit-events.ts';

let server: NatsServerHandle;
let nc: NatsConnection;
let env: Record<string, string>;
beforeAll(async () => {
  server = await startNatsServer();
  nc = await provisioned(server.url);
  env = { NATS_URL: server.url };
});
afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

type Listed = Array<{ subject: string; storedAt: string; kind?: string; by?: string; [field: string]: unknown }>;
const listed = async (...args: string[]) => {
  const r = await tps(['events', ...args, '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Listed;
};

it('says so when nothing has changed', async () => {
  const r = await tps(['events'], env);
  expect([r.code, r.stdout.trim()]).toEqual([0, 'No audit events in the last 1h.']);
});

it('lists the changes the levers made, who made them, oldest first, and filters by kind', async () => {
  expect((await tps(['chaos', 'set', 'service-a', 'error_rate', 'ratio=0.5'], env)).code).toBe(0);
  expect((await tps(['scale', 'fast', '24'], env)).code).toBe(0);
  // The fault in force, as a script reads it.
  expect(JSON.parse((await tps(['chaos', 'list', '--json'], env)).stdout)).toEqual([expect.objectContaining({ target: 'service-a', fault: 'error_rate', params: { ratio: 0.5, status: 500 } })]);
  expect((await tps(['chaos', 'clear', 'service-a'], env)).code).toBe(0);

  const all = await listed();
  expect(all.map((e) => e.kind)).toEqual(['chaos.set', 'control.scale', 'chaos.clear']);
  expect(all[0]).toMatchObject({ subject: 'tps.events.chaos.set', by: expect.stringMatching(/^tps \(/), target: 'service-a', fault: 'error_rate' });
  expect((await listed('--kind', 'chaos')).map((e) => e.kind)).toEqual(['chaos.set', 'chaos.clear']);
  expect((await listed('--kind', 'chaos.clear')).map((e) => e.kind)).toEqual(['chaos.clear']);
  // A kind is a whole word of the subject: "chao" is not "chaos".
  expect(await listed('--kind', 'chao')).toEqual([]);

  const text = await tps(['events'], env);
  expect(text.stdout).toMatch(/^TIME \(UTC\) +KIND +BY +WHAT$/m);
  expect(text.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +chaos\.set +tps \(\S+\) +target=service-a fault=error_rate params=\{"ratio":0\.5,"status":500\} setAt=\S+ expiresAt=\S+$/m);
  expect(text.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +control\.scale +tps \(\S+\) +.*pool=fast/m);
  expect(text.stdout).toContain('3 events in the last 1h.');
});

it('keeps the newest within --limit and says older ones were left out; --since reaches back', async () => {
  const js = jetstream(nc);
  for (const n of [1, 2, 3]) expect(await publishAuditEvent(js, 'dlq.purged', 'test', { n })).toBe(true);
  expect((await listed('--kind', 'dlq', '--limit', '2')).map((e) => e.n)).toEqual([2, 3]);
  const text = await tps(['events', '--kind', 'dlq', '--limit', '2'], env);
  expect(text.stdout).toContain('2 events in the last 1h of kind dlq; older ones left out (--limit 2).');
  expect(await listed('--kind', 'dlq', '--since', '7d')).toHaveLength(3);
});

it('refuses bad flags with the reason and exit status 2', async () => {
  const cases: Array<[string[], string]> = [
    [['--since', '8d'], '--since: expected a duration up to 7d such as 30m, 2h, 7d; got "8d"'],
    [['--since', '10'], '--since: expected a duration up to 7d such as 30m, 2h, 7d; got "10"'],
    [['--limit', '0'], '--limit: expected a whole number from 1 to 100000; got "0"'],
    [['--kind', 'chaos.>'], '--kind: expected a kind such as chaos, chaos.set, control or dlq'],
    [['chaos'], 'unexpected arguments: chaos (a kind is given with --kind)'],
  ];
  for (const [args, message] of cases) {
    const r = await tps(['events', ...args], env);
    expect([r.code, r.stderr], args.join(' ')).toEqual([2, expect.stringContaining(message)]);
  }
});
