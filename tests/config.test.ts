import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '#platform/config.ts';

describe('loadConfig', () => {
  it('gives sane defaults and a frozen result', () => {
    const config = loadConfig({});
    expect(config.nats.servers).toEqual(['nats://127.0.0.1:4222']);
    expect(config.queues).toEqual({ capacity: { fast: 1000, slow: 200 }, dlqCapacity: 10000 });
    expect(config.http.host).toBe('127.0.0.1');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.queues)).toBe(true);
    expect(() => { (config.queues as { dlqCapacity: number }).dlqCapacity = 1; }).toThrow(TypeError);
  });

  it('puts the native NATS on 4222 plus the port offset, and uses another server only when told to', () => {
    const moved = loadConfig({ TPS_PORT_OFFSET: '100' });
    expect(moved.nats).toMatchObject({ servers: ['nats://127.0.0.1:4322'], urlGiven: false, external: false });
    expect(loadConfig({ NATS_URL: 'nats://127.0.0.1:4222', TPS_EXTERNAL_NATS: 'true' }).nats).toMatchObject({ urlGiven: true, external: true });
    expect(() => loadConfig({ TPS_EXTERNAL_NATS: 'maybe' })).toThrow(/TPS_EXTERNAL_NATS="maybe": expected true or false/);
  });

  it('parses durations, lists of URLs, and treats empty values as unset', () => {
    const config = loadConfig({ NATS_URL: 'nats://a:4222, nats://b:4223', PUBLISH_TIMEOUT_MS: '1.5s', REQUEST_TIMEOUT_MS: '1m', HTTP_PORT: '' });
    expect(config.nats.servers).toEqual(['nats://a:4222', 'nats://b:4223']);
    expect(config.ingress.publishTimeoutMs).toBe(1500);
    expect(config.http.requestTimeoutMs).toBe(60_000);
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
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '5s', REQUEST_TIMEOUT_MS: '2s' })).toThrow(/HEADERS_TIMEOUT_MS=5000 must not be above REQUEST_TIMEOUT_MS=2000/);
    // 0 would switch Node's timeout off: a slow client could hold a connection for ever (slowloris).
    expect(() => loadConfig({ REQUEST_TIMEOUT_MS: '50ms' })).toThrow(/REQUEST_TIMEOUT_MS="50ms": at least 100ms/);
    expect(() => loadConfig({ NATS_USER: 'worker' })).toThrow(/NATS_USER and NATS_PASSWORD must be set together/);
    expect(() => loadConfig({ IDEMPOTENCY_TTL: '1m' })).toThrow(/IDEMPOTENCY_TTL=60000 must not be below JOBS_DUPLICATE_WINDOW=120000/);
    expect(() => loadConfig({ TPS_CONSOLE_OTLP_PORT: '4318' })).toThrow(/TPS_CONSOLE_OTLP_PORT needs TPS_CONSOLE_OTLP_TOKEN/);
    expect(() => loadConfig({ TPS_CONSOLE_OTLP_PORT: '4318', TPS_CONSOLE_OTLP_TOKEN: 'short' })).toThrow(/TPS_CONSOLE_OTLP_TOKEN/);
    expect(loadConfig({ TPS_CONSOLE_OTLP_PORT: '4318', TPS_CONSOLE_OTLP_TOKEN: 'a'.repeat(48) }).console).toMatchObject({ otlpPort: 4318, maxTraces: 2000 });
  });
});
