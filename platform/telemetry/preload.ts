// Telemetry bootstrap, loaded once per process with `node --import` before any module of the role
// (see roleNodeArgs in services/registry.ts). With tracing off (no OTLP endpoint configured, or
// OTEL_SDK_DISABLED=true) it loads nothing else: no SDK, no cost. With tracing on it starts the
// SDK before the role's modules run, so the role's HTTP app adds its span hooks (server-spans.ts)
// and the first request is traced. No loader hook: no instrumentation library patches modules.
import { TelemetryConfigError, tracingSettings, type TracingSettings } from './settings.ts';
import { recordTelemetryState } from './state.ts';

function settingsOrExit(): TracingSettings {
  try {
    return tracingSettings(process.env, process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof TelemetryConfigError)) throw err;
    process.stderr.write(`tps: ${err.message}\n`);
    process.exit(1);
  }
}

const settings = settingsOrExit();
if (settings.enabled) {
  const { startTracing } = await import('./sdk.ts');
  const tracing = await startTracing(settings);
  // Roles end by letting the event loop empty (no process.exit): export what is still batched.
  let flushed = false;
  process.on('beforeExit', () => {
    if (flushed) return;
    flushed = true;
    void tracing.shutdown().catch(() => {});
  });
}
recordTelemetryState({
  preloaded: true,
  tracing: settings.enabled,
  reason: settings.reason,
  serviceName: settings.serviceName,
  ...(settings.enabled && settings.endpoint ? { endpoint: settings.endpoint } : {}),
});
