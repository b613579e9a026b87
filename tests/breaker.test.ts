// The breaker wrapper around opossum: opens on failures, ignores 4xx, stops timed-out calls,
// can be forced open, and reports state, transitions and calls.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createBreaker, BreakerOpenError, CallTimeoutError, ClientError, type BreakerPolicy } from '#platform/breaker.ts';
import { createRegistry } from '#platform/metrics.ts';
import { waitFor } from '#devenv/nats-server.ts';

const policy: BreakerPolicy = { timeoutMs: 200, errorThresholdPercentage: 50, resetTimeoutMs: 300, volumeThreshold: 10, rollingWindowMs: 10_000, capacity: 100 };
const logger = pino({ level: 'silent' });

function setup(call: (signal: AbortSignal, n: number) => Promise<number>) {
  const registry = createRegistry({ defaults: false });
  const breaker = createBreaker('test->target', policy, call, { registry, logger });
  const metric = async (name: string) => (await registry.metrics()).split('\n').filter((l) => l.startsWith(name)).join('\n');
  return { breaker, metric };
}

describe('breaker', () => {
  it('opens after enough failures, rejects without calling, half-opens, and closes on a good probe', async () => {
    let calls = 0;
    let failing = true;
    const { breaker, metric } = setup(async (_s, n) => { calls += 1; if (failing) throw new Error('down'); return n; });
    for (let i = 0; i < 10; i++) await expect(breaker.fire(i)).rejects.toThrow('down');
    expect(breaker.state()).toBe('open');
    const before = calls;
    await expect(breaker.fire(1)).rejects.toBeInstanceOf(BreakerOpenError);
    expect(calls).toBe(before);
    failing = false;
    await waitFor(() => (breaker.state() === 'half_open' ? true : undefined), 2_000);
    expect(await breaker.fire(7)).toBe(7);
    expect(breaker.state()).toBe('closed');
    expect(await metric('tps_circuit_state')).toContain('tps_circuit_state{circuit="test->target"} 0');
    // One of each (every `to` series exists from the breaker's creation, at 0).
    for (const to of ['open', 'half_open', 'closed']) expect(await metric('tps_circuit_transitions_total')).toMatch(new RegExp(`to="${to}"} 1$`, 'm'));
    expect(await metric('tps_circuit_calls_total')).toMatch(/result="failure"} 10/);
    expect(await metric('tps_circuit_calls_total')).toMatch(/result="rejected"} 1/);
  });

  it('does not count client errors (4xx) as failures', async () => {
    const { breaker } = setup(async () => { throw new ClientError(422, 'INVALID_PAYLOAD', 'bad'); });
    for (let i = 0; i < 20; i++) await expect(breaker.fire(i)).rejects.toBeInstanceOf(ClientError);
    expect(breaker.state()).toBe('closed');
  });

  it('aborts a slow call just before its timeout', async () => {
    let aborted = false;
    const { breaker } = setup((signal) => new Promise((_, reject) => {
      signal.addEventListener('abort', () => { aborted = true; reject(signal.reason); });
    }));
    const started = Date.now();
    await expect(breaker.fire(1)).rejects.toBeInstanceOf(CallTimeoutError);
    expect(aborted).toBe(true);
    expect(Date.now() - started).toBeLessThan(policy.timeoutMs + 100);
  });

  it('applies live limits (tps config): volume, error percentage, timeout and reset time change on the running breaker', async () => {
    let failing = true;
    const { breaker } = setup(async (_s, n) => { if (failing) throw new Error('down'); return n; });
    breaker.tune({ volumeThreshold: 30 });
    for (let i = 0; i < 20; i++) await expect(breaker.fire(i)).rejects.toThrow('down');
    expect(breaker.state()).toBe('closed'); // 20 calls: under the raised volume
    breaker.tune({ volumeThreshold: 10, resetTimeoutMs: 50 });
    await expect(breaker.fire(0)).rejects.toThrow('down');
    expect(breaker.state()).toBe('open');
    expect(breaker.policy).toMatchObject({ volumeThreshold: 10, resetTimeoutMs: 50, errorThresholdPercentage: 50 });
    failing = false;
    await waitFor(() => (breaker.state() === 'half_open' ? true : undefined), 1_000, () => 'half-open after the shortened reset time');
    expect(await breaker.fire(1)).toBe(1);
    const slow = setup((signal) => new Promise((_, reject) => { signal.addEventListener('abort', () => reject(signal.reason)); }));
    slow.breaker.tune({ timeoutMs: 30 });
    const started = Date.now();
    await expect(slow.breaker.fire(1)).rejects.toThrow('timed out after 30 ms');
    expect(Date.now() - started).toBeLessThan(policy.timeoutMs);
  });

  it('stays open while forced, and release returns it to automatic', async () => {
    let calls = 0;
    const { breaker } = setup(async (_s, n) => { calls += 1; return n; });
    breaker.forceOpen();
    await expect(breaker.fire(1)).rejects.toThrow(/forced by an operator/);
    await new Promise((resolve) => setTimeout(resolve, policy.resetTimeoutMs + 100));
    expect(breaker.state()).toBe('open');
    expect(calls).toBe(0);
    breaker.release();
    expect(breaker.state()).toBe('closed');
    expect(await breaker.fire(3)).toBe(3);
  });
});
