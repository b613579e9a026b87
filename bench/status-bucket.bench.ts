// Job status at a full bucket: what nats-server pays to store a job's status writes once the
// `tps_jobs` bucket removes old entries (full, or past its TTL), and to read one job's view, for the
// two layouts of the bucket's keys, alternating, each round on a nats-server of its own:
// - "a key per job": one key per job, a revision per state (`<id>`), read by a history read (an
//   ordered consumer on the key): the layout before 2026-12-05;
// - "a key per write": `<id>.accepted`, `<id>.started.1`, `<id>.done` (platform/job-status.ts),
//   read by one lookup per key from the stream's leader (openJobStatusReader).
// The writes come as a queue with a backlog makes them: job i is accepted while job i - backlog
// starts and completes, so a job's entries lie `--backlog` jobs' writes apart in the stream. The
// bucket is the real one (platform/nats/topology.ts) but for its size (`--mib`, 256 in a role),
// so that it fills in seconds; what a removal costs depends on the backlog, not on the size.
//   node bench/status-bucket.bench.ts [--mib 32] [--backlog 5000] [--writes 60000] [--rounds 3]
import { writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNatsServer } from '#devenv/nats-server.ts';
import { loadConfig } from '#platform/config.ts';
import { openJobStatusReader, openJobStatusStore, type JobStatusEntry } from '#platform/job-status.ts';
import { createJetStreamPublisher } from '#platform/nats/jetstream-publisher.ts';
import { provision } from '#platform/nats/provision.ts';
import { buckets } from '#platform/nats/subjects.ts';
import { declareTopology } from '#platform/nats/topology.ts';
import { benchArgs } from './lib/args.ts';
import { cpuMs } from './lib/processes.ts';
import { median } from './lib/stats.ts';

const args = benchArgs(import.meta.url, { mib: { type: 'string' }, backlog: { type: 'string' }, writes: { type: 'string' }, rounds: { type: 'string' } });
const mib = args.whole('mib', 32);
const backlog = args.whole('backlog', 5_000);
const writes = args.whole('writes', 60_000, 3);
const rounds = args.whole('rounds', 3);
const layouts = ['a key per job', 'a key per write'] as const;
type Layout = (typeof layouts)[number];
type Run = { layout: Layout; round: number; fillUsPerWrite: number; fullUsPerWrite: number; fullWritesPerSecond: number; readMs: number; readBrokerMs: number };

const stream = `KV_${buckets.jobs}`;
const entry = (state: JobStatusEntry['state'], attempt?: number): JobStatusEntry => ({ state, at: new Date().toISOString(), type: 'fast.echo', pool: 'fast', ...(attempt ? { attempt } : {}) });

/** Writes one job's status the way a layout lays it out, waiting for each write to be stored. */
async function writerOf(layout: Layout, nc: NatsConnection): Promise<{ write(id: string, e: JobStatusEntry): Promise<void>; read(id: string): Promise<number>; close(): void }> {
  if (layout === 'a key per write') {
    const store = await openJobStatusStore(nc);
    const reader = await openJobStatusReader(nc);
    return { write: (id, e) => store.record(id, e), read: async (id) => (await reader.history(id)).length, close: () => store.close() };
  }
  const publisher = createJetStreamPublisher(nc, { timeoutMs: 10_000 });
  const kv = await new Kvm(nc).open(buckets.jobs);
  return {
    write: async (id, e) => { await publisher.publish(`$KV.${buckets.jobs}.${id}`, Buffer.from(JSON.stringify(e)), {}); },
    read: async (id) => { let n = 0; for await (const _ of await kv.history({ key: id })) n++; return n; },
    close: () => publisher.close(),
  };
}

async function run(layout: Layout, round: number): Promise<Run> {
  const nats = await startNatsServer();
  const nc = await connect({ servers: nats.url, noAsyncTraces: true });
  try {
    const topology = declareTopology(loadConfig({ NATS_URL: nats.url }));
    const streams = topology.streams.map((s) => (s.name === stream ? { ...s, max_bytes: mib * 1024 * 1024 } : s));
    await provision(nc, { ...topology, streams });
    const jsm = await jetstreamManager(nc);
    const writer = await writerOf(layout, nc);
    const ids: string[] = [];
    // Job i is accepted as job i - backlog starts and then completes: three writes a job.
    const writeJobs = async (count: number) => {
      const start = ids.length;
      for (let i = 0; i < count; i++) ids.push(randomUUID());
      let next = start;
      await Promise.all(Array.from({ length: 256 }, async () => {
        while (next < start + count) {
          const i = next++;
          await writer.write(ids[i]!, entry('accepted'));
          const older = ids[i - backlog];
          if (older) { await writer.write(older, entry('processing', 1)); await writer.write(older, entry('completed', 1)); }
        }
      }));
    };
    const timed = async (count: number) => {
      const [cpu0, t0] = [cpuMs(nats.pid!), performance.now()];
      await writeJobs(count);
      const puts = count * 3;
      return { usPerWrite: ((cpuMs(nats.pid!) - cpu0) * 1000) / puts, perSecond: puts / ((performance.now() - t0) / 1000) };
    };
    // Fill until the bucket has removed entries for a while (its first sequence moved past a
    // backlog); the first part, the bucket far from full, is the cost of a write that removes nothing.
    let fill: { usPerWrite: number; perSecond: number } | undefined;
    for (let filled = false; !filled;) {
      const part = await timed(writes / 3);
      fill ??= part;
      const state = (await jsm.streams.info(stream)).state;
      if (fill === part && state.first_seq > 1) throw new FlagsError(`--writes ${writes} fill the bucket of --mib ${mib} at once: give fewer writes or more MiB`);
      filled = state.first_seq > 3 * backlog;
      process.stdout.write(`  ${layout}: ${Math.round(state.bytes / 1048576)} of ${mib} MiB, ${state.messages} entries\r`);
    }
    const full = await timed(writes / 3);
    // A job's view, read as GET /jobs/:id does, for jobs written last (their keys are all there).
    const sample = ids.slice(-backlog - 50, -backlog);
    const [cpu0, t0] = [cpuMs(nats.pid!), performance.now()];
    for (const id of sample) if ((await writer.read(id)) !== 3) throw new Error(`${layout}: job ${id} did not read back its three entries`);
    const result: Run = {
      layout, round, fillUsPerWrite: round1(fill!.usPerWrite), fullUsPerWrite: round1(full.usPerWrite), fullWritesPerSecond: Math.round(full.perSecond),
      readMs: round1((performance.now() - t0) / sample.length), readBrokerMs: round1((cpuMs(nats.pid!) - cpu0) / sample.length),
    };
    console.log(`${`round ${round}, ${layout}`.padEnd(28)} far from full: nats-server ${result.fillUsPerWrite} µs/write; full: ${result.fullUsPerWrite} µs/write, ${result.fullWritesPerSecond} writes/s; a job's view: ${result.readMs} ms, nats-server ${result.readBrokerMs} ms`);
    writer.close();
    return result;
  } finally {
    await nc.close();
    await nats.dispose();
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;
/** Flags that turned out not to fit together once the run began (its nats-server is stopped first). */
class FlagsError extends Error {}
console.log(`job status bucket of ${mib} MiB, a backlog of ${backlog} jobs, ${writes} writes measured at full, ${rounds} rounds`);
const runs: Run[] = [];
try {
  for (let round = 1; round <= rounds; round++) for (const layout of round % 2 ? layouts : [...layouts].reverse()) runs.push(await run(layout, round));
} catch (err) {
  if (err instanceof FlagsError) args.fail(err.message);
  throw err;
}
const of = (layout: Layout, key: keyof Run) => median(runs.filter((r) => r.layout === layout).map((r) => Number(r[key])));
const summary = {
  mib, backlog, writes, rounds, runs,
  byLayout: Object.fromEntries(layouts.map((l) => [l, { fillUsPerWrite: of(l, 'fillUsPerWrite'), fullUsPerWrite: of(l, 'fullUsPerWrite'), fullWritesPerSecond: of(l, 'fullWritesPerSecond'), readMs: of(l, 'readMs'), readBrokerMs: of(l, 'readBrokerMs') }])),
  /** nats-server's CPU per status write at a full bucket, a key per write over a key per job (median of rounds). */
  fullWriteCostRatio: median(Array.from({ length: rounds }, (_, i) => {
    const [job, write] = layouts.map((l) => runs.find((r) => r.layout === l && r.round === i + 1)!);
    return write!.fullUsPerWrite / job!.fullUsPerWrite;
  })),
};
writeFileSync(new URL('./results/status-bucket-latest.json', import.meta.url), `${JSON.stringify(summary, null, 2)}\n`);
console.log(`\nat a full bucket, nats-server's CPU per status write, a key per write / a key per job: ${summary.fullWriteCostRatio.toFixed(3)}`);
