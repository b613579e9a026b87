// What making and exporting one span costs, by OTLP encoding: bench/targets/span-maker.ts in a
// fresh process per run (our tracing code and the real SDK, started by the telemetry preload as in a
// role, exporting to the sink over HTTP), protobuf and JSON
// alternating for --rounds rounds, the medians printed. The CPU of one process per span is much
// steadier on a shared machine than the whole pipeline's rate (bench/lib/tracing-overhead.ts).
// First, the protobuf body's encoding alone: the SDK's serializer against ours
// (bench/targets/span-encoders.ts, one process, alternating), as a same-run ratio.
//   node bench/tracing-export.bench.ts [--rounds 5] [--jobs 20000]
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/args.ts';
import { projectRoot } from '#platform/paths.ts';
import { freePort, startTarget } from './lib/processes.ts';
import { median } from './lib/stats.ts';

const args = benchArgs(import.meta.url, { rounds: { type: 'string' }, jobs: { type: 'string' } });
const rounds = args.whole('rounds', 5);
const jobs = args.whole('jobs', 20_000, 1_000);
const run = promisify(execFile);
const encoders = await compareEncoders(rounds);
const port = await freePort();
const sink = await startTarget([fileURLToPath(new URL('./targets/otlp-sink.ts', import.meta.url)), String(port)], {}, `http://127.0.0.1:${port}/stats`);
const stats = async () => (await (await fetch(`${sink.url}/stats`)).json()) as { bytes: number; spans: number };
const protocols = ['http/protobuf', 'http/json'] as const;
const results: Record<string, Array<{ cpuUsPerSpan: number; bytesPerSpan: number }>> = { 'http/protobuf': [], 'http/json': [] };
for (let round = 1; round <= rounds; round++) {
  for (const protocol of protocols) {
    const before = await stats();
    const { stdout } = await run(process.execPath, ['--disable-warning=ExperimentalWarning', '--import', path.join(projectRoot, 'platform', 'telemetry', 'preload.ts'), fileURLToPath(new URL('./targets/span-maker.ts', import.meta.url)), String(jobs)], {
      // A queue that never overflows: the maker outpaces any role, and a dropped span costs nothing.
      env: { ...process.env, OTEL_SDK_DISABLED: 'false', OTEL_SERVICE_NAME: 'worker-fast', OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_BSP_MAX_QUEUE_SIZE: '1000000' },
    });
    const after = await stats();
    const { cpuUsPerSpan } = JSON.parse(stdout) as { cpuUsPerSpan: number };
    const received = after.spans - before.spans;
    if (received !== (jobs + 2_000) * 2) throw new Error(`${protocol}: ${received} spans received of ${(jobs + 2_000) * 2} made`);
    const bytesPerSpan = (after.bytes - before.bytes) / received;
    results[protocol]?.push({ cpuUsPerSpan, bytesPerSpan });
    console.log(`round ${round} ${protocol.padEnd(13)} ${cpuUsPerSpan.toFixed(2)} µs of CPU per span, ${bytesPerSpan.toFixed(0)} bytes per span (${after.spans - before.spans} spans received)`);
  }
}
await sink.stop();
const summary = protocols.map((protocol) => ({
  protocol,
  cpuUsPerSpan: Number(median((results[protocol] ?? []).map((r) => r.cpuUsPerSpan)).toFixed(2)),
  bytesPerSpan: Math.round(median((results[protocol] ?? []).map((r) => r.bytesPerSpan))),
}));
console.log(`\nmedians of ${rounds} rounds: ${summary.map((s) => `${s.protocol} ${s.cpuUsPerSpan} µs and ${s.bytesPerSpan} bytes per span`).join('; ')}`);
const out = fileURLToPath(new URL('./results/tracing-export-latest.json', import.meta.url));
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, jobs, rounds, encoders, summary, results }, null, 2)}\n`);
console.log(`written to ${out}`);

/** The protobuf body's encoding alone, the SDK's serializer and ours on the same batch, in one fresh process. */
async function compareEncoders(rounds: number) {
  const { stdout } = await run(process.execPath, ['--disable-warning=ExperimentalWarning', fileURLToPath(new URL('./targets/span-encoders.ts', import.meta.url)), String(Math.max(rounds, 5))]);
  const { results, bytesPerSpan } = JSON.parse(stdout) as { results: Array<{ sdk: number; ours: number }>; bytesPerSpan: number };
  const summary = {
    bytesPerSpan: Math.round(bytesPerSpan),
    sdkCpuUsPerSpan: Number(median(results.map((r) => r.sdk)).toFixed(2)),
    oursCpuUsPerSpan: Number(median(results.map((r) => r.ours)).toFixed(2)),
    oursOverSdk: Number(median(results.map((r) => r.ours / r.sdk)).toFixed(3)),
  };
  console.log(`encoding a protobuf export, per span (${summary.bytesPerSpan} bytes), medians of ${results.length} rounds: the SDK's serializer ${summary.sdkCpuUsPerSpan} µs, ours ${summary.oursCpuUsPerSpan} µs (ours / SDK ${summary.oursOverSdk}, rounds ${results.map((r) => (r.ours / r.sdk).toFixed(2)).join(', ')})\n`);
  return { ...summary, rounds: results };
}
