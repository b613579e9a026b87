// `tps status` and `tps diagnose`: percentiles and rates from two scrapes, the handbook's decision
// trees as rules, and the real command against a running stack.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collection } from '#operator/status/collect.ts';
import { diagnose } from '#operator/status/diagnose.ts';
import { parseMetrics } from '#operator/status/parse.ts';
import { snapshot, type PoolView, type Snapshot } from '#operator/status/snapshot.ts';
import { tps } from '#devenv/cli.ts';
import { startNatsServer, type NatsServerHandle } from '#devenv/nats-server.ts';
import { injectFault, startStack, submit, settle, type Stack } from '#devenv/stack.ts';

function collection(before: string, after: string, seconds = 2): Collection {
  const target = { role: 'worker-fast', url: 'http://w' };
  return { at: '2026-01-01T00:00:00Z', seconds, before: [{ target, samples: parseMetrics(before) }], after: [{ target, samples: parseMetrics(after) }] };
}

describe('snapshot', () => {
  it('computes rates and percentiles from the change between two scrapes', () => {
    const bucket = (le: string, n: number) => `tps_job_processing_seconds_bucket{le="${le}",pool="fast",type="fast.echo"} ${n}`;
    const before = [bucket('0.01', 10), bucket('0.1', 10), bucket('+Inf', 10), 'tps_jobs_processed_total{pool="fast",type="fast.echo",outcome="success"} 10'].join('\n');
    const after = [
      bucket('0.01', 60), bucket('0.1', 110), bucket('+Inf', 110) + ' # {trace_id="abc"} 0.05 1',
      'tps_jobs_processed_total{pool="fast",type="fast.echo",outcome="success"} 100',
      'tps_jobs_processed_total{pool="fast",type="fast.echo",outcome="retry"} 2',
      'tps_worker_slots{pool="fast"} 16', 'tps_worker_busy{pool="fast"} 4',
      'tps_circuit_state{circuit="worker-fast->service-a"} 2',
    ].join('\n');
    const s = snapshot(collection(before, after));
    const fast = s.pools.find((p) => p.pool === 'fast') as PoolView;
    expect(fast.completedPerSec).toBe(45);
    expect(fast.errorRate).toBeCloseTo(2 / 92);
    expect(fast.workers).toMatchObject({ slots: 16, busy: 4, utilization: 0.25 });
    // 50 of 100 new observations are under 10 ms: the median is at the first bucket's top.
    expect(fast.processing.p50).toBeCloseTo(0.01);
    expect(fast.processing.p99).toBeGreaterThan(0.09);
    expect(s.circuits).toEqual([{ name: 'worker-fast->service-a', state: 'open', opensInInterval: 0 }]);
  });
});

describe('diagnose', () => {
  type Overrides = Partial<Omit<PoolView, 'queue' | 'workers'>> & { queue?: Partial<PoolView['queue']>; workers?: Partial<PoolView['workers']> };
  const pool = (over: Overrides): PoolView => ({
    pool: 'fast', incomingPerSec: 10, completedPerSec: 10, attemptsPerSec: 10, errorRate: 0, rejectedPerSec: {},
    processing: { p50: 0.01, p90: 0.02, p99: 0.03, count: 100 }, endToEnd: { p50: 0.01, p90: 0.02, p99: 0.03, count: 100 },
    dlq: { depth: 0, capacity: 10000, addedPerSec: 0 }, autoscaler: { bottleneck: false },
    ...over,
    queue: { depth: 500, capacity: 1000, fill: 0.5, pending: 10, inflight: 5, ...over.queue },
    workers: { instances: 1, slots: 16, busy: 11, utilization: 0.7, ...over.workers },
  });
  const snap = (p: PoolView, extra: Partial<Snapshot> = {}): Snapshot => ({
    at: '', seconds: 2, pools: [p], circuits: [], roles: [], faults: [], parameters: [], canaries: [], autoscaler: { present: false, enabled: false }, rejected: { perSec: 0, byReason: {}, byPool: {} }, ...extra,
  });

  it('finds nothing in the handbook\'s healthy example', () => {
    expect(diagnose(snap(pool({})))).toEqual([]);
  });

  it.each([
    ['full queue, busy workers: scale', pool({ queue: { depth: 1000, fill: 1 }, workers: { busy: 16, utilization: 1 } }), 'high', /queue full[\s\S]*tps scale fast/],
    ['full queue, idle workers: something blocks them', pool({ queue: { depth: 1000, fill: 1 }, workers: { busy: 1, utilization: 0.06 } }), 'high', /queue full[\s\S]*something blocks them/],
    ['full queue with errors: cascading failure', pool({ queue: { depth: 1000, fill: 1 }, errorRate: 0.3 }), 'critical', /cascading failure/],
    ['every attempt failing', pool({ errorRate: 1 }), 'critical', /error rate 100%/],
    ['error rate above 5%', pool({ errorRate: 0.08 }), 'high', /error rate 8%/],
    ['queue at 80%', pool({ queue: { depth: 850, fill: 0.85 } }), 'medium', /queue at 85%/],
    ['p99 above 10x p50', pool({ processing: { p50: 0.01, p90: 0.02, p99: 0.5, count: 100 } }), 'medium', /more than 10x p50/],
    ['DLQ growing', pool({ dlq: { depth: 4, capacity: 10000, addedPerSec: 0.5 } }), 'medium', /dead-letter queue growing[\s\S]*tps dlq replay/],
    ['the broker storing no job (NATS down, or its disk full)', pool({ rejectedPerSec: { broker_unavailable: 12 } }), 'critical', /new fast jobs refused: the broker stores none \(12\.0\/s\)[\s\S]*free room/],
  ] as const)('%s', (_name, p, severity, text) => {
    const findings = diagnose(snap(p));
    expect(findings[0]?.severity).toBe(severity);
    expect(JSON.stringify(findings)).toMatch(text);
  });

  it('puts a role that is down and an open circuit first', () => {
    const findings = diagnose(snap(pool({}), {
      roles: [{ role: 'service-a', up: false, cpuPercent: 0, memoryMb: 0, error: 'ECONNREFUSED' }],
      circuits: [{ name: 'worker-fast->service-a', state: 'open', opensInInterval: 1 }],
    }));
    expect(findings.map((f) => f.severity)).toEqual(['critical', 'high']);
    expect(findings[1]?.what).toMatch(/circuit worker-fast->service-a is open/);
  });
});

describe('against a running stack', () => {
  let server: NatsServerHandle;
  let stack: Stack;
  beforeAll(async () => {
    server = await startNatsServer();
    stack = await startStack(server.url);
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    await server?.dispose();
  });

  it('shows every role, pool and breaker, and diagnose sees an open breaker', async () => {
    await settle(stack, await submit(stack, 'fast.echo', 5), 20_000);
    const targets = ['ingress', 'worker-fast', 'worker-slow', 'service-a', 'service-b', 'service-c'].map((r) => `${r}=${stack.url(r as 'ingress')}`).join(',');
    const status = await tps(['status', '--json', '--interval', '0.5', '--targets', targets]);
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout) as Snapshot;
    expect(s.roles.map((r) => r.up)).toEqual([true, true, true, true, true, true]);
    expect(s.pools.map((p) => [p.pool, p.queue.capacity])).toEqual([['fast', 1000], ['slow', 200]]);
    expect(s.circuits.map((c) => c.name)).toContain('worker-fast->service-a');

    const text = await tps(['status', '--no-color', '--interval', '0.5', '--targets', targets]);
    expect(text.stdout).toMatch(/Queue depth\s+✓ 0\/1000/);

    await injectFault(stack, { target: 'service-a', fault: 'error_rate', params: { ratio: 1 }, durationMs: 60_000 });
    try {
      const load = submit(stack, 'fast.echo', 30);
      await load;
      const diag = await tps(['diagnose', '--interval', '1', '--no-color', '--targets', targets]);
      expect(diag.code).toBe(3);
      expect(diag.stdout).toMatch(/HIGH\s+worker-fast->service-a: circuit worker-fast->service-a is open/);
      expect(diag.stdout).toMatch(/error_rate on service-a/);
    } finally {
      await stack.chaos.reset('test');
    }
  });

  it('says clearly when there is nothing to look at', async () => {
    // No native state and no Docker daemon: no stack from this checkout runs.
    const r = await tps(['status'], { TPS_STATE_DIR: '/nonexistent-tps-state', DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/TPS Lab is not running from this checkout/);
    expect(r.stderr).toMatch(/`make up`.*`docker-compose up -d`/s);
    // Without the wrapper's look around (targets named), the command itself says so too.
    const direct = await tps(['status'], { TPS_STATE_DIR: '/nonexistent-tps-state', TPS_MODE: 'native' });
    expect(direct.code).toBe(1);
    expect(direct.stderr).toMatch(/TPS Lab is not running here/);
    expect((await tps(['status', '--targets', 'ingress=ftp://x'])).code).toBe(2);
  });
});
