// One HTTP load run with wrk (closed model: N connections, each sends as soon as it has its
// answer), reduced to the figures the benchmarks report. wrk is C, so on a 2-core machine the
// load generator takes far less CPU from the server under test than a Node generator would.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireBinary } from '#platform/binaries.ts';

export type LoadResult = {
  label: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  statusCounts: Record<string, number>;
  errors: number;
  /** CPU the server under test used per answered request, in microseconds (when measured). */
  cpuUsPerRequest?: number;
};

const script = fileURLToPath(new URL('./wrk-post.lua', import.meta.url));

export async function load(label: string, opts: { url: string; body: string; connections: number; seconds: number; threads?: number; cpu?: () => number }): Promise<LoadResult> {
  const cpuBefore = opts.cpu?.();
  const wrk = requireBinary('wrk', 'Benchmarks use wrk: `apt-get install wrk` (make bench-* installs it).');
  const args = [`-t${opts.threads ?? 1}`, `-c${opts.connections}`, `-d${opts.seconds}s`, '--timeout', '10s', '-s', script, opts.url];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(wrk, args, { env: { ...process.env, BODY: opts.body }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk failed (${code}): ${out}`))));
  });
  const line = output.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (!line) throw new Error(`wrk printed no summary:\n${output}`);
  const raw = JSON.parse(line.slice('WRK_JSON '.length)) as { requests: number; duration_us: number; p50_us: number; p99_us: number; errors: number; status: Record<string, number> };
  const cpuUsed = opts.cpu && cpuBefore !== undefined ? opts.cpu() - cpuBefore : undefined;
  return {
    label,
    ...(cpuUsed !== undefined && raw.requests > 0 ? { cpuUsPerRequest: Math.round((cpuUsed * 1000) / raw.requests) } : {}),
    rps: Math.round(raw.requests / (raw.duration_us / 1e6)),
    p50Ms: Number((raw.p50_us / 1000).toFixed(2)),
    p99Ms: Number((raw.p99_us / 1000).toFixed(2)),
    statusCounts: raw.status,
    errors: raw.errors,
  };
}

export function formatResult(r: LoadResult): string {
  const codes = Object.entries(r.statusCounts).map(([c, n]) => `${c}:${n}`).join(' ');
  const cpu = r.cpuUsPerRequest !== undefined ? `   cpu ${String(r.cpuUsPerRequest).padStart(3)} µs/req` : '';
  return `${r.label.padEnd(36)} ${String(r.rps).padStart(7)} req/s   p50 ${r.p50Ms.toFixed(1).padStart(6)} ms   p99 ${r.p99Ms.toFixed(1).padStart(6)} ms${cpu}   ${codes}${r.errors ? `   errors:${r.errors}` : ''}`;
}
