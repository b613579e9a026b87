// A host that loses its power (reliability matrix R8), on one node with R1 streams as `make up` and
// compose run it. nats-server keeps its store on a crash disk (devenv/crash-disk.ts: ext4 on a
// loop device), so a power cut leaves what a real one leaves: what the kernel had written to the
// disk, not what nats-server had written to its files. Its fsync is lazy by default, so the jobs
// accepted in the last seconds before the cut are lost; that window is lost by configuration and
// counted here, not asserted away (docs/reliability.md). What must hold is that the system works
// again once the host boots: every job accepted after the boot is worked, also when the cut came
// so soon after the first start that it took the streams themselves. It was not: the
// consumer's small state file had reached the disk and the queue's last messages had not, so the
// consumer believed done the sequences the queue then gave to new jobs, and they stayed in the
// queue unworked; provisioning now makes such a consumer again (platform/nats/consumer-reset.ts).
// Nor was it, a few jobs at a time, where the queue's index file had reached the disk with the
// sequences it counted deleted: nats-server 2.9.10 gave those sequences to new jobs and never
// delivered them; provisioning now makes such a stream whole (platform/nats/stream-repair.ts).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tps } from '#devenv/cli.ts';
import { createCrashDisk, type CrashDisk } from '#devenv/crash-disk.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { metricValue, settle, startStack, submit, type Stack } from '#devenv/stack.ts';

let disk: CrashDisk;
let server: NatsServerHandle;
let stack: Stack | undefined;
const connections: NatsConnection[] = [];
const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-power-cut-'));

beforeAll(async () => {
  disk = createCrashDisk('nats');
  server = await startNatsServer({ storeDir: disk.dir });
}, 30_000);
afterAll(async () => {
  await stack?.stop();
  for (const nc of connections) await nc.close();
  await server?.dispose();
  disk?.dispose();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

const env = (s: Stack) => ({ NATS_URL: server.url, TPS_STATE_DIR: s.stateDir, TPS_EXTERNAL_NATS: 'true' });
const acceptedFast = (s: Stack) => metricValue(s.url('ingress'), /^tps_jobs_submitted_total\{pool="fast",type="fast\.echo"\} /);

/** Files of the fast pool's queue in the store (nats-server 2.9): its consumer's state file
 * (<stream>/obs/<consumer>/o.dat) and its message blocks' index files (<stream>/msgs/<n>.idx). */
function queueFiles(): { consumerState: string; blockIndexes: string[] } {
  const streamsDir = path.join(disk.dir, 'jetstream');
  const files = readdirSync(streamsDir, { recursive: true, encoding: 'utf8' });
  const found = files.find((f) => f.endsWith(path.join('JOBS_FAST', 'obs', 'workers-fast', 'o.dat')));
  if (!found) throw new Error(`no state file of JOBS_FAST/workers-fast under ${streamsDir}`);
  const blockIndexes = files.filter((f) => path.dirname(f).endsWith(path.join('JOBS_FAST', 'msgs')) && f.endsWith('.idx'));
  return { consumerState: path.join(streamsDir, found), blockIndexes: blockIndexes.map((f) => path.join(streamsDir, f)) };
}

/** The host loses its power: the broker and every role at once (SIGKILL: nothing flushes), then
 * the disk (after `whileDark`, with the broker dead and its files as it left them). */
async function hostLosesPower(s: Stack, whileDark: () => void = () => {}): Promise<{ usedBefore: number; usedAfter: number }> {
  await server.stop({ hard: true });
  whileDark();
  for (const name of s.supervisor.processNames()) {
    const pid = s.supervisor.pidOf(name);
    if (pid) process.kill(pid, 'SIGKILL');
  }
  const used = disk.powerCut();
  await s.stop();
  stack = undefined;
  return used;
}

it('starts again after a power cut right after the first start, which took the streams themselves', async () => {
  stack = await startStack(server.url, { LOG_LEVEL: 'warn' });
  await hostLosesPower(stack);
  await server.start();
  // Nothing of the streams reached the disk yet (ext4 writes new data back after 30 s): gone.
  const jsm = await jetstreamManager(await connect({ servers: server.url }).then((nc) => { connections.push(nc); return nc; }));
  expect(await jsm.streams.info('JOBS_FAST').then(() => 'there', (err: unknown) => (err as Error).message)).toMatch(/stream not found/);
  // The boot's provisioning makes them again over what is left of them, and jobs are worked.
  const booted = await startStack(server.url, { LOG_LEVEL: 'warn' });
  stack = booted;
  const ids = await submit(booted, 'fast.echo', 20);
  const views = await settle(booted, ids, 60_000);
  expect([...views.values()].filter((v) => v.status === 'completed')).toHaveLength(ids.length);
  await booted.stop();
  stack = undefined;
}, 120_000);

it('works every job accepted after the host boots again, and counts what the cut lost (R8, one node)', async () => {
  const first = await startStack(server.url, { LOG_LEVEL: 'warn' });
  stack = first;
  // A host that has run a while: its start-up (the streams' definitions) is on the disk.
  disk.syncAll();
  const ledger = path.join(dir, 'before-the-cut.jsonl');
  const loadStarted = Date.now();
  const load = tps(['load', '--rate', '100', '--duration', '10s', '--url', first.url('ingress'), '--ledger', ledger, '--json', '-'], env(first), { timeoutMs: 60_000 });
  await waitFor(async () => ((await acceptedFast(first)) > 250 ? true : undefined), 30_000, () => 'the load to be under way', 100);

  // The power goes. What was seen to happen by itself is made sure of: the consumer's state file
  // reached the disk (4 runs of 4, natively through `tps up` too), and so did the queue's index
  // file, with the sequences its acknowledgements deleted (3 cuts of 12 under a loaded machine's
  // writeback), while the queue's tail did not (stream-repair.ts).
  const { usedBefore, usedAfter } = await hostLosesPower(first, () => {
    const { consumerState, blockIndexes } = queueFiles();
    for (const file of [consumerState, ...blockIndexes]) disk.syncFile(file);
  });
  const cutAt = Date.now();
  const before = JSON.parse((await load).stdout) as { accepted_jobs: number };

  // The host boots: nats-server on what its disk kept, then the stack as `tps up` starts it,
  // provisioning first.
  await server.start();
  const booted = await startStack(server.url, { LOG_LEVEL: 'warn' });
  stack = booted;
  // Whether the fast pool's consumer was ahead of its queue after the cut (made again at the boot)
  // depends on what the kernel had written back of the queue by then (CI saw both): said, not asserted.
  const consumer = await (await jetstreamManager(booted.nc)).consumers.info('JOBS_FAST', 'workers-fast');
  const consumerReset = new Date(consumer.created).getTime() > cutAt;

  const after = await submit(booted, 'fast.echo', 60);
  const views = await settle(booted, after, 60_000);
  expect([...views.values()].filter((v) => v.status === 'completed')).toHaveLength(after.length);

  // The window the lazy fsync lost: counted and printed, as the reliability matrix asks.
  const audit = await tps(['audit', ledger, '--wait', '5s', '--json', '--service-c', booted.url('service-c')], env(booted), { timeoutMs: 60_000 });
  const found = JSON.parse(audit.stdout) as { accepted: number; completed: number; lost: number; inFlight: number };
  expect(found.accepted).toBe(before.accepted_jobs);
  // "lost" is the audit's: no record left that the job ended, since the statuses' unsynced tail
  // went with the queue's (some of those may have been worked before the cut).
  console.log(`R8 (one node, R1): the disk kept ${Math.round(usedAfter / 1024)} of the ${Math.round(usedBefore / 1024)} KiB in use at the cut; of ${found.accepted} jobs accepted in the ${((cutAt - loadStarted) / 1000).toFixed(1)} s before the cut, ${found.completed} completed, ` +
    `${found.lost} with no record left that they ended, ${found.inFlight} with a status but not worked; after the boot ${after.length} of ${after.length} accepted jobs completed (the fast pool's consumer ${consumerReset ? 'made again' : 'kept'})`);
}, 180_000);
