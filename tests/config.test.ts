import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '#platform/config.ts';

describe('loadConfig', () => {
  it('gives sane defaults and a frozen result', () => {
    const config = loadConfig({});
    expect(config.nats.servers).toEqual(['nats://127.0.0.1:4222']);
    expect(config.queues).toEqual({ fastCapacity: 1000, slowCapacity: 200, dlqCapacity: 10000 });
    expect(config.http.host).toBe('127.0.0.1');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.queues)).toBe(true);
    expect(() => { (config.queues as { fastCapacity: number }).fastCapacity = 1; }).toThrow(TypeError);
  });

  it('parses durations, lists of URLs, and treats empty values as unset', () => {
    const config = loadConfig({ NATS_URL: 'nats://a:4222, nats://b:4223', PUBLISH_TIMEOUT_MS: '1.5s', REQUEST_TIMEOUT_MS: '1m', HTTP_PORT: '' });
    expect(config.nats.servers).toEqual(['nats://a:4222', 'nats://b:4223']);
    expect(config.ingress.publishTimeoutMs).toBe(1500);
    expect(config.ingress.requestTimeoutMs).toBe(60_000);
    expect(config.http.port).toBeUndefined();
  });

  it('reports every bad variable at once, by name', () => {
    let error: unknown;
    try {
      loadConfig({ FAST_QUEUE_CAPACITY: 'lots', HTTP_PORT: '70000', LOG_LEVEL: 'loud', NATS_URL: 'http://x', PUBLISH_TIMEOUT_MS: '-3' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const name of ['FAST_QUEUE_CAPACITY="lots"', 'HTTP_PORT="70000"', 'LOG_LEVEL="loud"', 'NATS_URL="http://x"', 'PUBLISH_TIMEOUT_MS="-3"']) {
      expect(message).toContain(name);
    }
    expect((error as ConfigError).problems).toHaveLength(5);
  });

  it('checks settings that depend on each other', () => {
    expect(() => loadConfig({ PUBLISH_TIMEOUT_MS: '5s', REQUEST_TIMEOUT_MS: '2s' })).toThrow(/PUBLISH_TIMEOUT_MS=5000 must be below REQUEST_TIMEOUT_MS=2000/);
    expect(() => loadConfig({ NATS_USER: 'worker' })).toThrow(/NATS_USER and NATS_PASSWORD must be set together/);
  });
});
