// How the standard OTEL_* variables switch tracing, how native mode decides for its roles, and
// that docs/configuration.md lists every OTEL_* variable telemetry reads.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TelemetryConfigError, telemetryVariables, tracingSettings } from '#platform/telemetry/settings.ts';
import { missingPreloadWarning } from '#platform/telemetry/state.ts';
import { chooseTracing, defaultOtlpEndpoint, otlpReceiverAnswers } from '#operator/supervisor/tracing.ts';
import { startOtlpReceiver } from '#devenv/otlp-receiver.ts';

describe('tracingSettings', () => {
  it('is off without an endpoint or exporter, and on with an endpoint', () => {
    expect(tracingSettings({})).toMatchObject({ enabled: false, exporters: [], endpoint: undefined });
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318/' }, ['run', 'worker-fast'])).toMatchObject({
      enabled: true, exporters: ['otlp'], endpoint: 'http://jaeger:4318/v1/traces', serviceName: 'worker-fast', protocol: 'http/protobuf',
      sampler: 'parentbased_always_on', propagators: ['tracecontext', 'baggage'], batch: { scheduledDelayMillis: 5_000, maxExportBatchSize: 512 },
    });
  });

  it('lets OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER=none win over an endpoint', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
    expect(tracingSettings({ ...endpoint, OTEL_SDK_DISABLED: 'TRUE' })).toMatchObject({ enabled: false, reason: 'OTEL_SDK_DISABLED=true' });
    expect(tracingSettings({ ...endpoint, OTEL_SDK_DISABLED: 'false' }).enabled).toBe(true);
    expect(tracingSettings({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' })).toMatchObject({ enabled: false, reason: 'OTEL_TRACES_EXPORTER=none' });
  });

  it('uses the standard defaults and the traces-specific variables as the spec says', () => {
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp' })).toMatchObject({ enabled: true, endpoint: 'http://localhost:4318/v1/traces', serviceName: 'tps' });
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9999/traces' }).endpoint).toBe('http://b:9999/traces');
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'console' })).toMatchObject({ enabled: true, exporters: ['console'], endpoint: undefined });
    expect(tracingSettings({ OTEL_SERVICE_NAME: 'edge' }, ['run', 'ingress']).serviceName).toBe('edge');
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).protocol).toBe('http/json');
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' }).protocol).toBe('http/protobuf');
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:1', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }))
      .toMatchObject({ sampler: 'parentbased_traceidratio', samplerRatio: 0.25 });
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      tracingSettings({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_BSP_SCHEDULE_DELAY: 'soon', OTEL_TRACES_SAMPLER: 'sometimes', OTEL_EXPORTER_OTLP_ENDPOINT: 'jaeger' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TelemetryConfigError);
    const message = (error as Error).message;
    expect(message).toContain('set http/protobuf (the default) or http/json');
    for (const name of ['OTEL_EXPORTER_OTLP_PROTOCOL="grpc"', 'OTEL_BSP_SCHEDULE_DELAY="soon"', 'OTEL_TRACES_SAMPLER="sometimes"', 'OTEL_EXPORTER_OTLP_ENDPOINT="jaeger"']) {
      expect(message).toContain(name);
    }
  });
});

it('warns when OTEL_* asks for tracing in a process started without the preload', () => {
  // This test process was not started with the preload.
  expect(missingPreloadWarning({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toContain('preload was not loaded');
  expect(missingPreloadWarning({})).toBeUndefined();
  expect(missingPreloadWarning({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
});

describe('native mode (chooseTracing)', () => {
  it('turns tracing on only when an OTLP receiver answers', async () => {
    const receiver = await startOtlpReceiver();
    try {
      expect(await otlpReceiverAnswers(receiver.url)).toBe(true);
      expect(receiver.requests).toBe(1);
    } finally {
      await receiver.close();
    }
    expect(await otlpReceiverAnswers(receiver.url)).toBe(false);
    expect(await chooseTracing({}, async () => true)).toMatchObject({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: defaultOtlpEndpoint } });
    expect(await chooseTracing({}, async () => false)).toMatchObject({ env: {}, note: expect.stringContaining('tracing off') });
  });

  it('sends the spans to the console\'s own receiver when the console runs and no Jaeger answers, with a token only the roles get', async () => {
    const probed: string[] = [];
    const choice = await chooseTracing({}, async (base) => { probed.push(base); return false; }, { consoleOtlpPort: 4418 });
    expect(probed).toEqual([defaultOtlpEndpoint, 'http://127.0.0.1:4418']);
    const token = choice.env.TPS_CONSOLE_OTLP_TOKEN ?? '';
    expect(token).toMatch(/^[0-9a-f]{48}$/);
    expect(choice.env).toEqual({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4418', OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${token}`,
      TPS_CONSOLE_OTLP_PORT: '4418', TPS_CONSOLE_OTLP_TOKEN: token,
    });
    expect(choice.note).toContain('the console\'s own receiver');
    expect((await chooseTracing({}, async () => false, { consoleOtlpPort: 4418 })).env.TPS_CONSOLE_OTLP_TOKEN).not.toBe(token);
    // A Jaeger there takes the spans, and the console links to its UI.
    expect((await chooseTracing({}, async () => true, { consoleOtlpPort: 4418 })).env).toEqual({ OTEL_EXPORTER_OTLP_ENDPOINT: defaultOtlpEndpoint, TPS_JAEGER_UI_URL: 'http://127.0.0.1:16686' });
  });

  it('leaves an explicit OTEL_* choice as it is, without probing', async () => {
    const probe = async () => { throw new Error('must not probe'); };
    expect(await chooseTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' }, probe)).toEqual({ env: {}, note: 'tracing on: spans go to http://jaeger:4318/v1/traces' });
    expect(await chooseTracing({ OTEL_SDK_DISABLED: 'true' }, probe)).toEqual({ env: {}, note: 'tracing off (OTEL_SDK_DISABLED=true)' });
  });
});

it('docs/configuration.md lists exactly the OTEL_* variables telemetry reads', () => {
  const doc = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
  const documented = new Set([...doc.matchAll(/^\| ((?:`OTEL_[A-Z_]+`(?: \/ )?)+) \|/gm)].flatMap((m) => [...(m[1] ?? '').matchAll(/`([A-Z_]+)`/g)].map((v) => v[1])));
  expect([...documented].sort()).toEqual([...telemetryVariables].sort());
});
