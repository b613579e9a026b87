// Whether the roles of native mode trace, decided once before they start. An OTEL_* choice in the
// environment (an endpoint, an exporter, OTEL_SDK_DISABLED) is used as it is. Otherwise tracing is
// turned on only when an OTLP/HTTP receiver (Jaeger) already answers on the default port, so a
// machine without Jaeger pays nothing for spans nobody could look at.
import { tracingSettings } from '#platform/telemetry/settings.ts';

export const defaultOtlpEndpoint = 'http://127.0.0.1:4318';

const chosenBy = ['OTEL_SDK_DISABLED', 'OTEL_TRACES_EXPORTER', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'];

export type TracingChoice = { env: Record<string, string>; note: string };

/** True when something at `base` accepts an OTLP/HTTP JSON export (an empty one). */
export async function otlpReceiverAnswers(base: string): Promise<boolean> {
  try {
    const res = await fetch(`${base}/v1/traces`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resourceSpans":[]}', signal: AbortSignal.timeout(1_000),
    });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** `startedJaeger`: the OTLP endpoint of a Jaeger this supervisor has just started (not up yet). */
export async function chooseTracing(env: NodeJS.ProcessEnv, probe: (base: string) => Promise<boolean> = otlpReceiverAnswers, startedJaeger?: string): Promise<TracingChoice> {
  if (chosenBy.some((name) => (env[name] ?? '').trim() !== '')) {
    const settings = tracingSettings(env);
    return { env: {}, note: settings.enabled ? `tracing on: spans go to ${settings.endpoint ?? settings.exporters.join(', ')}` : `tracing off (${settings.reason})` };
  }
  if (startedJaeger) return { env: { OTEL_EXPORTER_OTLP_ENDPOINT: startedJaeger }, note: `tracing on: spans go to the Jaeger started here (${startedJaeger})` };
  if (await probe(defaultOtlpEndpoint)) {
    return { env: { OTEL_EXPORTER_OTLP_ENDPOINT: defaultOtlpEndpoint }, note: `tracing on: an OTLP receiver answers at ${defaultOtlpEndpoint} (Jaeger UI: http://127.0.0.1:16686)` };
  }
  return { env: {}, note: `tracing off: no OTLP receiver at ${defaultOtlpEndpoint} (start Jaeger, or set OTEL_EXPORTER_OTLP_ENDPOINT)` };
}
