// The native load generator against a real slow HTTP server: it keeps its arrival schedule
// whatever the server does (no coordinated omission), drops at the in-flight cap instead of
// slowing down, and refuses bad input with clear messages. Plus the k6 script's static checks.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '#platform/paths.ts';
import { runLoad } from '#loadgen/generator.ts';
import { LatencyHistogram } from '#loadgen/histogram.ts';
import { defaultMix, mixPicker, parseMix } from '#loadgen/mix.ts';
import { isLoopback } from '#loadgen/target.ts';
import { tps, tpsBin } from '#devenv/cli.ts';
import { waitFor } from '#devenv/nats-server.ts';
import { startSlowServer, type SlowServer } from '#devenv/slow-server.ts';

let server: SlowServer;
const tempDirs: string[] = [];
/** A temp folder of this file's, removed after it. */
function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
beforeAll(async () => { server = await startSlowServer(300); });
afterAll(async () => {
  await server?.close();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const mix = parseMix('fast.echo=1');

describe('the arrival schedule holds when the server is slow', () => {
  it('issues every scheduled arrival, and measures latency from the scheduled time', async () => {
    const before = server.received;
    // The generator's own event loop is blocked for 250 ms once: arrivals due then leave late.
    const blocker = setTimeout(() => { const until = performance.now() + 250; while (performance.now() < until); }, 500);
    const r = await runLoad({ url: server.url, rate: 200, durationMs: 2_000, mix, concurrencyCap: 1_000, progressEveryMs: 100_000 });
    clearTimeout(blocker);
    // Open model: rate x duration arrivals, all sent (a closed model would manage ~7/s per connection).
    expect(r.counts.arrivals).toBe(400);
    expect(r.counts.sent).toBe(400);
    expect(r.counts.dropped).toBe(0);
    expect(server.received - before).toBe(400);
    expect(r.counts.statuses[202]).toBe(400);
    expect(r.achievedRate).toBeGreaterThan(200 * 0.8);
    // Every request waited 300 ms at the server, counted from its schedule; the late ones longer.
    // (Less 1 ms: Node starts a timer from the event loop's cached clock, so it may fire that early.)
    expect(r.latency.min).toBeGreaterThanOrEqual(299);
    expect(r.counts.late).toBeGreaterThan(0);
    expect(r.counts.maxLateMs).toBeGreaterThan(150);
    expect(r.latency.max).toBeGreaterThanOrEqual(300 + r.counts.maxLateMs - 1);
  });

  it('drops arrivals at the in-flight cap instead of lowering the rate', async () => {
    const own = await startSlowServer(300);
    try {
      const r = await runLoad({ url: own.url, rate: 200, durationMs: 2_000, mix, concurrencyCap: 10, progressEveryMs: 100_000 });
      expect(r.counts.arrivals).toBe(400);
      expect(r.counts.sent + r.counts.dropped).toBe(400);
      // 10 in flight for 300 ms each: about 33 a second can be sent, the rest are dropped.
      expect(r.counts.dropped).toBeGreaterThan(200);
      expect(own.received).toBe(r.counts.sent);
      expect(own.maxConcurrent).toBe(10);
    } finally {
      await own.close();
    }
  });

  it('on stop ends the arrivals but waits for the answers in flight, so the ledger has every accepted job', async () => {
    const own = await startSlowServer(300);
    const stop = new AbortController();
    const ledger: string[] = [];
    try {
      const run = runLoad({ url: own.url, rate: 100, durationMs: 60_000, mix, concurrencyCap: 100, progressEveryMs: 100_000, stop: stop.signal, onAccepted: (j) => ledger.push(j.id) });
      await waitFor(() => (own.received >= 20 ? true : undefined), 10_000, () => 'arrivals to reach the server');
      stop.abort();
      const r = await run;
      expect(r.interrupted).toBe(false);
      expect(r.counts.arrivals).toBeLessThan(200);
      expect(r.counts.inFlight).toBe(0);
      expect(r.counts.statuses[202]).toBe(own.received);
      expect(ledger).toHaveLength(own.received);
    } finally {
      await own.close();
    }
  });

  it('writes the ledger and a summary through `tps load`', async () => {
    const dir = tempDir('tps-load-');
    const ledger = path.join(dir, 'ledger.jsonl');
    const r = await tps(['load', '--rate', '50', '--duration', '1s', '--url', server.url, '--ledger', ledger, '--json', '-']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ arrivals: 50, http_reqs: 50, accepted_jobs: 50, dropped_iterations: 0, ledger });
    expect(r.stderr).toMatch(/http_req_duration .*p\(99\)=/);
    expect(r.stderr).toMatch(/rate \d+\/s .*p99/);
    const lines = readFileSync(ledger, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(50);
    expect(lines[0]).toEqual({ id: expect.any(String), type: 'fast.echo', acceptedAt: expect.stringMatching(/^\d{4}-/) });
  });
});

describe('`tps load` stopped early', () => {
  // Ctrl-C (SIGINT) or SIGTERM (`timeout 60 make load`, a script): killed outright, the run lost
  // its summary and the ledger's last lines, so the audit could not see every accepted job.
  it.each([['SIGINT', 130], ['SIGTERM', 143]] as const)('on %s: the answers in flight awaited, the summary printed, every accepted job in the ledger, exit %i', async (signal, status) => {
    const own = await startSlowServer(300);
    const dir = tempDir('tps-load-');
    const ledger = path.join(dir, 'ledger.jsonl');
    try {
      const child = spawn(tpsBin, ['load', '--rate', '100', '--duration', '60s', '--url', own.url, '--ledger', ledger], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.resume();
      const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
      await waitFor(() => (own.received >= 20 ? true : undefined), 10_000, () => 'arrivals to reach the server');
      child.kill(signal);
      expect(await closed).toBe(status);
      expect(stdout).toMatch(/jobs_accepted \.+ \d+/);
      expect(stdout).toContain('(STOPPED EARLY)');
      expect(stdout).not.toContain('(INTERRUPTED)');
      expect(readFileSync(ledger, 'utf8').trim().split('\n')).toHaveLength(own.received);
    } finally {
      await own.close();
    }
  });
});

describe('bad input is refused with a clear message', () => {
  it.each([
    [['--rate', '0'], /--rate: must be at least 1/],
    [['--rate', '30000'], /--rate: must be at most 20000/],
    [['--rate', 'fast'], /--rate: expected a whole number/],
    [['--duration', '2h'], /--duration: at most 1h/],
    [['--duration', 'soon'], /--duration: expected a duration/],
    [['--mix', 'fast.bogus=10'], /--mix: unknown job type "fast.bogus"/],
    [['--mix', 'fast.echo'], /--mix: "fast.echo" is not <job type>=<weight>/],
    [['--mix', 'fast.echo=0'], /--mix: the mix is empty/],
    [['--url', 'http://example.com:8080'], /not on this machine.*--allow-remote/],
    [['--rate', '20000', '--duration', '1h'], /more than 10000000.*--max-jobs/],
  ])('tps load %j', async (args, message) => {
    // TPS_MODE=native: run the command itself even with no stack running here (bin/tps would
    // otherwise say that first); flags are checked before anything is contacted.
    const r = await tps(['load', ...args], { TPS_MODE: 'native' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });

  it('exits 1 when the ingress is unreachable at the start', async () => {
    const closed = await startSlowServer(0);
    const url = closed.url;
    await closed.close();
    const r = await tps(['load', '--rate', '10', '--duration', '1s', '--url', url, '--no-ledger']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unreachable \(ECONNREFUSED\).*make up/);
  });
});

describe('building blocks', () => {
  it('keeps the mix proportions exactly over any whole cycle', () => {
    const next = mixPicker(parseMix('fast.echo=60,slow.report=20,fast.lookup=10,slow.export=10'));
    const counts: Record<string, number> = {};
    for (let i = 0; i < 1000; i++) { const t = next(); counts[t] = (counts[t] ?? 0) + 1; }
    expect(counts).toEqual({ 'fast.echo': 600, 'slow.report': 200, 'fast.lookup': 100, 'slow.export': 100 });
  });

  it('gives percentiles within 1 % from a fixed-size histogram', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 10_000; i++) h.record(i / 10);
    const s = h.stats();
    expect(s.count).toBe(10_000);
    expect(s.max).toBe(1000);
    expect(Math.abs(s.p50 - 500) / 500).toBeLessThan(0.01);
    expect(Math.abs(s.p99 - 990) / 990).toBeLessThan(0.01);
  });

  it('knows loopback addresses', () => {
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]', 'app.localhost']) expect(isLoopback(host)).toBe(true);
    for (const host of ['example.com', '10.0.0.1', '[::2]', '128.0.0.1']) expect(isLoopback(host)).toBe(false);
  });
});

describe('the k6 script', () => {
  const script = path.join(projectRoot, 'loadgen', 'k6', 'constant-rate.js');
  const source = readFileSync(script, 'utf8');

  it('parses as JavaScript', () => {
    const copy = path.join(tempDir('tps-k6-'), 'constant-rate.mjs');
    copyFileSync(script, copy);
    const r = spawnSync(process.execPath, ['--check', copy], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('reads the same inputs as tps load, with the same default mix, as compose runs it', () => {
    for (const name of ['RATE', 'DURATION', 'MIX', 'BASE_URL']) expect(source).toContain(`__ENV.${name}`);
    expect(source).toContain(`const DEFAULT_MIX = '${defaultMix}';`);
    expect(source).toMatch(/executor: 'constant-arrival-rate'/);
    expect(source).toMatch(/dropped_iterations/);
    const compose = parse(readFileSync(path.join(projectRoot, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { command: string[]; volumes: string[]; environment: Record<string, string>; profiles: string[] }> };
    const k6 = compose.services.k6;
    expect(k6?.profiles).toEqual(['load']);
    expect(k6?.volumes).toContain('./loadgen/k6:/scripts:ro');
    expect(k6?.command).toEqual(['run', '/scripts/constant-rate.js']);
    expect(k6?.environment).toMatchObject({ BASE_URL: 'http://ingress:8080', RATE: '${RATE:-100}', DURATION: '${DURATION:-2m}', MIX: `\${MIX:-${defaultMix}}` });
  });
});
