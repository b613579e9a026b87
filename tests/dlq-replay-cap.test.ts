// A poison job replayed again and again (reliability matrix S11): each replay dead-letters again,
// and after maxReplays replays of its line the entry is skipped with the reason and kept, so no
// operator or script can loop it between its queue and the DLQ. The replay itself (at most once
// per entry, races, the drain after a fix) is tests/dlq.test.ts.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDlqOperations } from '#platform/dlq/operations.ts';
import { maxReplays } from '#platform/dlq/replay.ts';
import { tps } from '#devenv/cli.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { settle, startStack, submit, type Stack } from '#devenv/stack.ts';

let server: NatsServerHandle;
let stack: Stack;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startNatsServer();
  stack = await startStack(server.url);
  env = { NATS_URL: server.url };
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await server?.dispose();
});

it(`replays a poison job's line at most ${maxReplays} times: each replay dead-letters again, then the entry is skipped with the reason and kept`, async () => {
  const ops = await openDlqOperations(stack.nc);
  const entryOf = async (jobId: string) => {
    await settle(stack, [jobId], 20_000);
    return waitFor(async () => (await ops.list({ jobId }))[0], 10_000, () => `the DLQ entry of job ${jobId}`);
  };
  // A fast.lookup key must be a string: service-a refuses it (422), a permanent failure.
  let [jobId = ''] = await submit(stack, 'fast.lookup', 1, { key: 42 });
  const line = [jobId];
  for (let replay = 1; replay <= maxReplays; replay++) {
    const entry = await entryOf(jobId);
    expect(entry.code).toBe('INVALID_PAYLOAD');
    const [outcome] = await ops.replay({ filter: { ids: [entry.seq] } }, { ratePerSecond: 100, dryRun: false, by: 'test' });
    expect(outcome?.outcome).toBe('replayed');
    jobId = (outcome as { newJobId: string }).newJobId;
    line.push(jobId);
  }
  const last = await entryOf(jobId);
  expect(last.job?.replays).toBe(maxReplays);
  expect((await tps(['dlq', 'show', String(last.seq)], env)).stdout).toContain(`replay ${maxReplays} of at most ${maxReplays}`);
  const dry = await tps(['dlq', 'replay', String(last.seq), '--dry-run'], env);
  expect(dry.stdout).toMatch(/Dry run: 0 would be replayed, 1 skipped/);
  const refused = await tps(['dlq', 'replay', String(last.seq)], env);
  expect(refused.code).toBe(0);
  expect(refused.stdout).toMatch(new RegExp(`skipped +${last.seq} .*: replayed ${maxReplays} times already \\(at most ${maxReplays}\\), dead-lettered again each time`));
  expect(refused.stdout).toMatch(/Replayed 0, skipped 1, failed 0\./);
  // Kept for the operator to read and purge; every job of the line ended dead-lettered.
  expect((await ops.list({ jobId }))[0]?.seq).toBe(last.seq);
  expect([...(await settle(stack, line, 10_000)).values()].map((v) => v.status)).toEqual(line.map(() => 'dead_lettered'));
  expect((await ops.purge({ filter: { ids: [last.seq] } }, { dryRun: false, by: 'test' })).map((o) => o.outcome)).toEqual(['purged']);
  ops.close();
}, 60_000);
