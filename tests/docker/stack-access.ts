// How the compose test reaches the stack tests/docker/run.sh started: its published ports (the
// TPS_*_PORT variables), commands as a user types them (make, bin/tps) and code run inside the
// stack's network (`docker-compose exec`), for the services that publish no port.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '#platform/paths.ts';

const port = (name: string): number => {
  const value = Number(process.env[name]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} is not set: run this through tests/docker/run.sh (make test-compose)`);
  return value;
};

export const urls = {
  ingress: `http://127.0.0.1:${port('TPS_INGRESS_PORT')}`,
  prometheus: `http://127.0.0.1:${port('TPS_PROMETHEUS_PORT')}`,
  jaeger: `http://127.0.0.1:${port('TPS_JAEGER_UI_PORT')}`,
  natsMonitor: `http://127.0.0.1:${port('TPS_NATS_MONITOR_PORT')}`,
  console: `http://127.0.0.1:${port('TPS_CONSOLE_PORT')}`,
  alertmanager: `http://127.0.0.1:${port('TPS_ALERTMANAGER_PORT')}`,
};

/** The docker test's assertion: a failed check stops the run with its message. */
export function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

export type Run = { code: number | null; out: string };

/** Runs a command in the project folder as a user would; stdout and stderr together. */
export function run(command: string, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number; quiet?: boolean } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(command, args, { cwd: projectRoot, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const take = (d: Buffer) => { out += d.toString(); };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${command} ${args.join(' ')}: no answer in ${opts.timeoutMs} ms\n${out}`)); }, opts.timeoutMs ?? 120_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!opts.quiet) for (const line of out.trimEnd().split('\n')) if (line) console.log(`     | ${line}`);
      // Each command's time (a quiet one's when it took a second or more): where a step's seconds
      // go. A `bin/tps` against compose runs by `docker exec` in the standing tools container.
      const seconds = (Date.now() - started) / 1000;
      if (!opts.quiet || seconds >= 1) console.log(`     ${opts.quiet ? '.' : '|'} ${path.basename(command)} ${args.slice(0, 3).join(' ')}${args.length > 3 ? ' ...' : ''}: exit ${code}, ${seconds.toFixed(1)} s`);
      resolve({ code, out });
    });
  });
}

/** `make <args>` as typed in the certification program; fails unless it exits 0. */
export async function make(...args: string[]): Promise<string> {
  console.log(`   $ make ${args.join(' ')}`);
  const r = await run('make', ['--no-print-directory', ...args], { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`make ${args.join(' ')} exited ${r.code}`);
  return r.out;
}

/** Runs JavaScript with Node inside the ingress container (it is on the stack's network). */
export async function inStack(script: string): Promise<string> {
  const r = await run('docker-compose', ['exec', '-T', 'ingress', 'node', '-e', script], { quiet: true });
  if (r.code !== 0) throw new Error(`in the stack: exit ${r.code}\n${r.out}`);
  return r.out.trim();
}

/** An instant query, now or `at` a moment in the past. */
export async function promQuery(expr: string, at?: Date): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const params = new URLSearchParams({ query: expr, ...(at ? { time: String(at.getTime() / 1000) } : {}) });
  const res = await fetch(`${urls.prometheus}/api/v1/query`, { method: 'POST', body: params });
  const body = (await res.json()) as { status: string; error?: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  if (body.status !== 'success') throw new Error(`PromQL ${expr}: ${body.error}`);
  return body.data?.result ?? [];
}

export type JaegerSpan = { traceID: string; spanID: string; operationName: string; processID: string; tags: Array<{ key: string; value: unknown }> };
export type JaegerTrace = { traceID: string; spans: JaegerSpan[]; processes: Record<string, { serviceName: string }> };

/** Jaeger's query API (GET /api/traces), as the Jaeger UI and Grafana read it. */
export async function traces(service: string, limit = 1000): Promise<JaegerTrace[]> {
  const res = await fetch(`${urls.jaeger}/api/traces?service=${encodeURIComponent(service)}&limit=${limit}`);
  return ((await res.json()) as { data: JaegerTrace[] | null }).data ?? [];
}

export async function submit(type: string, payload?: unknown, opts: { queueFullForMs?: number } = {}): Promise<string> {
  const until = Date.now() + (opts.queueFullForMs ?? 0);
  for (;;) {
    const res = await fetch(`${urls.ingress}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type, ...(payload ? { payload } : {}) }) });
    const body = (await res.json()) as { id?: string; code?: string };
    // A full queue asks the client to come back after Retry-After, as a client should (the exam's
    // day may leave a backlog that the workers are still draining).
    if (res.status === 503 && body.code === 'QUEUE_FULL' && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, Number(res.headers.get('retry-after') ?? 1) * 1_000));
      continue;
    }
    if (res.status !== 202 || !body.id) throw new Error(`POST /jobs ${type}: ${res.status} ${JSON.stringify(body)}`);
    return body.id;
  }
}

export async function jobStatus(id: string): Promise<string | undefined> {
  const res = await fetch(`${urls.ingress}/jobs/${id}`);
  return res.ok ? ((await res.json()) as { status: string }).status : undefined;
}
