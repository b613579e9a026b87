// The broker's disk fills up (beyond the reliability matrix: a laptop's disk does). nats-server
// keeps its store on a disk of the test's own (devenv/crash-disk.ts), which the test fills to the
// last block while the stack runs. The ingress refuses every job at once with a specific 503 that
// says what happened and does not show the broker's file paths; nothing is accepted, so nothing
// can be lost; once there is room again, jobs are accepted and worked, with no restart of anything.
// Before, the store's failure was a 503 BROKER_UNAVAILABLE carrying the store's path, retried as a
// leaderless stream until the publish deadline.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCrashDisk, type CrashDisk } from '#devenv/crash-disk.ts';
import { startNatsServer, type NatsServerHandle } from '#devenv/nats-server.ts';
import { postJob } from '#devenv/roles.ts';
import { metricValue, settle, startStack, type Stack } from '#devenv/stack.ts';

let disk: CrashDisk;
let server: NatsServerHandle;
let stack: Stack;

beforeAll(async () => {
  disk = createCrashDisk('full');
  server = await startNatsServer({ storeDir: disk.dir });
  stack = await startStack(server.url, { LOG_LEVEL: 'warn' });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await server?.dispose();
  disk?.dispose();
}, 60_000);

const rejectedBrokerUnavailable = () => metricValue(stack.url('ingress'), /^tps_jobs_rejected_total\{pool="fast",reason="broker_unavailable"\} /);

it('refuses every job with 503 BROKER_STORAGE_FAILED while the broker\'s disk is full, and takes jobs again once there is room', async () => {
  const empty = disk.fill();
  let emptied = false;
  try {
    const refusedBefore = await rejectedBrokerUnavailable();
    const answers = await Promise.all(Array.from({ length: 20 }, () => postJob(stack.url('ingress'), { type: 'fast.echo' })));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 503));
    const [first] = answers;
    expect(first?.json).toMatchObject({ code: 'BROKER_STORAGE_FAILED' });
    expect(String(first?.json.message)).toMatch(/could not store the job.*\(the broker's disk is full\)/);
    expect(String(first?.json.message)).not.toMatch(/\//); // no path of the broker's store
    expect(first?.headers.get('retry-after')).toBe('2');
    // Counted with the broker's other refusals, once each.
    expect((await rejectedBrokerUnavailable()) - refusedBefore).toBe(20);

    empty();
    emptied = true;
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const accepted = await postJob(stack.url('ingress'), { type: 'fast.echo' });
      expect(accepted.status, JSON.stringify(accepted.json)).toBe(202);
      ids.push(String(accepted.json.id));
    }
    const views = await settle(stack, ids, 30_000);
    expect([...views.values()].filter((v) => v.status === 'completed')).toHaveLength(ids.length);
  } finally {
    if (!emptied) empty();
  }
}, 120_000);
