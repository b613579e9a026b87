// Live parameters against a real stack (its own nats-server, the native supervisor's role
// processes) through the real `tps config` command: every process that applies a parameter reports
// its start-up value, a `set` reaches all of them within seconds and changes what they do (a
// shorter hop timeout makes service-b give up on a slow service-c sooner), bad input is refused
// before anything changes, every change is an audit event, and `reset` brings the start-up value back.
// The cache and fallback of the chain (next-hop.ts) switched on live: service-c not called for a
// cached answer, and jobs completing while service-c fails. The pool levers, the queue size too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tps } from '#devenv/cli.ts';
import { waitFor } from '#devenv/nats-server.ts';
import { startCliStack, type CliStack } from '#devenv/cli-stack.ts';
import { injectFault, metricValue, settle, startStack, submit, type Stack } from '#devenv/stack.ts';
import { recentEvents } from '#platform/nats/recent-events.ts';

let run: CliStack;
let stack: Stack;
let env: Record<string, string>;
const config = (...args: string[]) => tps(['config', ...args], env);
type Listed = Array<{ name: string; override?: { value: number; by: string; reason?: string }; inForce: string[] }>;
const listed = async () => JSON.parse((await config('get', '--json')).stdout) as Listed;
const inForce = async (name: string) => (await listed()).find((p) => p.name === name)?.inForce ?? [];

beforeAll(async () => {
  run = await startCliStack({ LOG_LEVEL: 'info' });
  ({ stack, env } = run);
}, 120_000);
afterAll(() => run?.stop());

describe('tps config', () => {
  it('shows every parameter at the start-up value each process applies', async () => {
    const all = await listed();
    expect(all.map((p) => p.name)).toContain('breaker.error-percent');
    expect(all.every((p) => p.override === undefined)).toBe(true);
    expect((await inForce('breaker.error-percent')).sort()).toEqual(['service-a=50', 'service-b=50', 'worker-fast=50', 'worker-slow=50']);
    expect(await inForce('timeout.service-c')).toEqual(['service-b=3000']);
    expect(await inForce('autoscaler.cooldown-ms')).toEqual(['autoscaler=15000']);
  });

  it('sets a parameter every process applies within seconds, recorded as an audit event, and resets it', async () => {
    const since = Date.now();
    const set = await config('set', 'breaker.error-percent', '30', '--reason', 'open sooner');
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('breaker.error-percent = 30 % (was the start-up value)');
    await waitFor(async () => ((await inForce('breaker.error-percent')).every((v) => v.endsWith('=30')) || undefined), 10_000, () => 'every breaker holder at 30 %');
    expect((await listed()).find((p) => p.name === 'breaker.error-percent')?.override).toMatchObject({ value: 30, reason: 'open sooner' });
    expect((await tps(['status', '--interval', '0.2'], env)).stdout).toContain('Live parameters: breaker.error-percent=30 (tps config set;');
    expect((await config('set', 'autoscaler.cooldown-ms', '2s')).code).toBe(0);
    await waitFor(async () => ((await inForce('autoscaler.cooldown-ms'))[0] === 'autoscaler=2000' || undefined), 10_000, () => 'the autoscaler at a 2 s cooldown');

    const events = await recentEvents<{ kind: string; by: string; name: string; from: number | null; to: number }>(stack.nc, 'tps.events.config.>', { sinceMs: Date.now() - since + 1_000, limit: 100 });
    expect(events.map((e) => [e.kind, e.name, e.from, e.to])).toEqual([['config.set', 'breaker.error-percent', null, 30], ['config.set', 'autoscaler.cooldown-ms', null, 2000]]);
    expect(events[0]?.by).toBeTruthy();

    const reset = await config('reset', '--all');
    expect(reset.stdout).toContain('breaker.error-percent: override 30 removed');
    await waitFor(async () => ((await inForce('breaker.error-percent')).every((v) => v.endsWith('=50')) || undefined), 10_000, () => 'every breaker holder back at 50 %');
    expect((await inForce('autoscaler.cooldown-ms'))).toEqual(['autoscaler=15000']);
    expect((await config('reset', '--all')).stdout).toContain('No parameter is overridden');
    expect((await tps(['status', '--interval', '0.2'], env)).stdout).toContain('Live parameters: start-up values');
  }, 60_000); // three waits of up to 10 s and eight tps commands: under a loaded CI they passed 30 s

  it('changes what the roles do: a shorter hop timeout makes service-b give up on a slow service-c sooner', async () => {
    await injectFault(stack, { target: 'service-c', fault: 'latency', params: { ms: 1500 } });
    expect((await config('set', 'timeout.service-c', '400ms')).code).toBe(0);
    await waitFor(async () => ((await inForce('timeout.service-c'))[0] === 'service-b=400' || undefined), 10_000, () => 'service-b at a 400 ms timeout');
    const [id] = await submit(stack, 'slow.report', 1);
    await waitFor(() => (stack.log('worker-slow').includes('timed out after 400 ms') || undefined), 20_000, () => 'a job attempt failing on the 400 ms timeout to service-c');
    await stack.chaos.clear('service-c', 'latency', 'test');
    expect((await config('reset', 'timeout.service-c')).code).toBe(0);
    const done = await settle(stack, [id ?? ''], 60_000);
    expect([...done.values()].map((v) => v.status)).toEqual(['completed']);
  }, 90_000);

  it('caches service-c\'s answers in service-b, and falls back while service-c fails: the jobs complete', async () => {
    const metric = (role: Parameters<Stack['url']>[0], pattern: RegExp) => metricValue(stack.url(role), pattern);
    const effectsC = () => metric('service-c', /^tps_service_effects_total\{service="service-c"\}/);
    expect((await config('set', 'cache.service-c', '1m')).code).toBe(0);
    await waitFor(async () => ((await inForce('cache.service-c'))[0] === 'service-b=60000' || undefined), 10_000, () => 'service-b caching');
    const before = await effectsC();
    await settle(stack, await submit(stack, 'slow.report', 1));
    await settle(stack, await submit(stack, 'slow.report', 3));
    expect(await effectsC()).toBe(before + 1); // three answered from the cache: service-c not called
    expect(await metric('service-b', /^tps_cache_requests_total\{caller="service-b",target="service-c",result="hit"\}/)).toBe(3);
    // Jobs of one key that miss while its answer is being fetched share that one call: an expired
    // entry is no stampede on the slow hop it shields (a new payload is a new key).
    await injectFault(stack, { target: 'service-c', fault: 'latency', params: { ms: 2000 } });
    const beforeShared = await effectsC();
    const together = await settle(stack, await submit(stack, 'slow.report', 4, { rows: 7 }), 30_000);
    expect([...together.values()].map((v) => v.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(await effectsC()).toBe(beforeShared + 1);
    await stack.chaos.clear('service-c', 'latency', 'test');

    // service-c fails every request; with the fallback on, service-b answers anyway.
    expect((await config('set', 'cache.service-c', '0')).code).toBe(0);
    expect((await config('set', 'fallback.service-c', 'on')).code).toBe(0);
    await waitFor(async () => ((await inForce('fallback.service-c'))[0] === 'service-b=1' && (await inForce('cache.service-c'))[0] === 'service-b=0') || undefined, 10_000, () => 'service-b falling back, not caching');
    await injectFault(stack, { target: 'service-c', fault: 'error_rate', params: { ratio: 1 } });
    const failing = await submit(stack, 'slow.report', 2);
    const unseen = await submit(stack, 'slow.export', 1); // no answer kept for it: the declared fallback
    const done = await settle(stack, [...failing, ...unseen], 30_000);
    expect([...done.values()].map((v) => [v.status, v.attempts])).toEqual([['completed', 1], ['completed', 1], ['completed', 1]]);
    expect(await metric('service-b', /^tps_fallback_total\{caller="service-b",target="service-c",source="cache"\}/)).toBe(2);
    expect(await metric('service-b', /^tps_fallback_total\{caller="service-b",target="service-c",source="declared"\}/)).toBe(1);
    // The breaker's own count of calls the caller answered without it (the chain dashboard's panel).
    expect(await metric('service-b', /^tps_circuit_calls_total\{circuit="service-b->service-c",result="fallback"\}/)).toBe(3);
    await stack.chaos.clear('service-c', 'error_rate', 'test');
    expect((await config('reset', '--all')).code).toBe(0);
  }, 90_000);

  it('sets, shows and resets the pool levers through the commands that own them (tps scale, tps autoscaler cap)', async () => {
    type Lever = { name: string; setting: string; inForce: string; range: string };
    // Manual control for this test: an idle pool would otherwise be scaled down under it.
    expect((await tps(['autoscaler', 'disable'], env)).code).toBe(0);
    const lever = async (name: string) => (JSON.parse((await config('get', name, '--json')).stdout) as Lever[])[0];
    expect(await lever('pool.slow.slots')).toMatchObject({ setting: 'start-up value (8)', inForce: '8', range: '1..64' });
    expect(await lever('pool.slow.replicas')).toMatchObject({ inForce: '1 running' });
    const set = await config('set', 'pool.slow.slots', '24');
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('slow pool: 24 slots per worker process');
    expect((await lever('pool.slow.slots'))?.inForce).toBe('24'); // tps scale waited for the workers to confirm
    expect((await config('set', 'pool.slow.max-slots', '32')).stdout).toContain('the autoscaler now stays at or below 32 slots per worker');
    const table = (await config('get')).stdout;
    expect(table).toMatch(/pool\.slow\.slots +24 \(manual by .+ at \S+\) +24 +1\.\.64/);
    expect(table).toMatch(/pool\.slow\.max-slots +32 \(by .+ at \S+\) +32 +1\.\.64 or off/);
    expect((await config('reset', 'pool.slow.slots')).stdout).toContain('slow pool: 8 slots per worker process (was 24)');
    expect((await config('reset', 'pool.slow.max-slots')).stdout).toContain('slow pool: no cap');
    const refused = await config('set', 'pool.slow.slots', '500');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('slots for the slow pool must be a whole number from 1 to 64, got "500"');
    expect((await config('set', 'pool.slow.max-slots', 'lots')).stderr).toContain('pool.slow.max-slots takes a whole number, 1..64 or off; got "lots"');
    expect((await config('set', 'pool.deep.slots', '4')).stderr).toContain('unknown parameter "pool.deep.slots"');
    expect((await tps(['autoscaler', 'enable'], env)).code).toBe(0);
    // A dozen tps commands, two waiting for the workers' heartbeats: a deadline against a hang (a loaded CI ran past 30 s).
  }, 90_000);

  it('sets the queue size through provisioning: the ingress refuses at it, a later provisioning keeps it, a size below the queue\'s depth is refused, reset gives it back', async () => {
    type Lever = { name: string; setting: string; inForce: string; range: string };
    const lever = async () => (JSON.parse((await config('get', 'pool.slow.queue', '--json')).stdout) as Lever[])[0];
    const capacity = () => metricValue(stack.url('ingress'), /^tps_queue_capacity\{pool="slow"\}/);
    expect(await lever()).toMatchObject({ setting: 'start-up value (SLOW_QUEUE_CAPACITY=200)', inForce: '200', range: '1..10000000' });
    const since = Date.now();
    const set = await config('set', 'pool.slow.queue', '50');
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/updated +stream +JOBS_SLOW +\(max_msgs: 200 -> 50\)/);
    expect(set.stdout).toContain('pool.slow.queue: 200 -> 50; the ingress refuses at it within');
    await waitFor(async () => ((await capacity()) === 50 || undefined), 10_000, () => 'the ingress to read 50 off the stream');
    expect((await lever())?.setting).toMatch(/^50 \(by .+ at \S+\)$/);
    // `tps up` and `tps provision` provision with what was set live, not SLOW_QUEUE_CAPACITY.
    expect((await tps(['provision'], env)).stdout).toMatch(/unchanged +stream +JOBS_SLOW\n/);
    const events = await recentEvents<{ kind: string; name: string; from: number; to: number }>(stack.nc, 'tps.events.config.>', { sinceMs: Date.now() - since + 1_000, limit: 100 });
    expect(events.map((e) => [e.kind, e.name, e.from, e.to])).toEqual([['config.set', 'pool.slow.queue', 200, 50]]);

    // Jobs held in the queue by a slow service-c: a size below what it holds would delete them.
    await injectFault(stack, { target: 'service-c', fault: 'latency', params: { ms: 20_000 }, durationMs: 60_000 });
    await submit(stack, 'slow.report', 20);
    await waitFor(async () => ((await metricValue(stack.url('ingress'), /^tps_queue_depth\{pool="slow"\}/)) >= 15 || undefined), 10_000, () => 'the slow queue to hold 15 jobs');
    const shrink = await config('set', 'pool.slow.queue', '5');
    expect(shrink.code).toBe(1);
    expect(shrink.stderr).toContain('Provisioning refused: it would delete messages the streams hold');
    expect(shrink.stderr).toMatch(/tps provision --queue slow=5 --force JOBS_SLOW=\d+/);
    expect(await capacity()).toBe(50);
    expect((await config('set', 'pool.slow.queue', 'lots')).stderr).toContain('pool.slow.queue takes a whole number, 1..10000000; got "lots"');
    await stack.chaos.clear('service-c', 'latency', 'test');

    const reset = await config('reset', 'pool.slow.queue');
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toContain('pool.slow.queue: 50 -> 200 (the configured size)');
    await waitFor(async () => ((await capacity()) === 200 || undefined), 10_000, () => 'the ingress back at 200');
    expect((await lever())?.setting).toBe('start-up value (SLOW_QUEUE_CAPACITY=200)');
  }, 90_000);

  it('refuses a bad parameter or value before changing anything', async () => {
    const outOfRange = await config('set', 'breaker.error-percent', '150');
    expect(outOfRange.code).toBe(2);
    expect(outOfRange.stderr).toContain('breaker.error-percent must be between 1 % and 100 %; got 150 %');
    const unknown = await config('set', 'breaker.colour', 'red');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown parameter "breaker.colour"; parameters are breaker.error-percent,');
    const notSwitch = await config('set', 'fallback.service-c', 'maybe');
    expect(notSwitch.stderr).toContain('fallback.service-c takes on or off; got "maybe"');
    const notDuration = await config('set', 'timeout.service-b', 'soon');
    expect(notDuration.stderr).toContain('timeout.service-b takes a duration such as 500, 500ms, 2s; got "soon"');
    expect((await config('get', 'breaker.error-percent', 'extra')).code).toBe(2);
    expect((await listed()).every((p) => p.override === undefined)).toBe(true);
  });

  it('says so when a hop would wait longer than the hop before it (a cascade), and still sets it', async () => {
    const inverted = await config('set', 'timeout.service-c', '9s');
    expect(inverted.code).toBe(0);
    expect(inverted.stderr).toContain('note: timeout.service-c (9000 ms) is not below timeout.service-b (8000 ms)');
    expect((await config('set', 'timeout.service-c', '2s')).stderr).toBe('');
    expect((await config('reset', 'timeout.service-c')).code).toBe(0);
  });
});
