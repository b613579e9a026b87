// Whether the roles of native mode trace, decided once before they start. An OTEL_* choice in the
// environment (an endpoint, an exporter, OTEL_SDK_DISABLED) is used as it is. Otherwise spans go to
// an OTLP/HTTP receiver (Jaeger) that already answers on the default port; else, when the console
// runs, to the console's own receiver on that port (it keeps the recent traces and draws them on
// its job pages), with a token made here that only the roles get; else tracing is off, so a
// machine with nobody to look at spans pays nothing for them.
import { randomBytes } from 'node:crypto';
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

export type TracingPlaces = {
  /** The OTLP endpoint of a Jaeger this supervisor has just started (not up yet). */
  startedJaeger?: string;
  /** Jaeger's UI, for the console's links, when Jaeger is there. */
  jaegerUi?: string;
  /** The console runs: where its receiver would listen if nothing else does. */
  consoleOtlpPort?: number;
};

/** The console's receiver for the roles' spans: its port and a fresh token, the roles' endpoint and header. */
function consoleReceiver(port: number): Record<string, string> {
  const token = randomBytes(24).toString('hex');
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${token}`,
    TPS_CONSOLE_OTLP_PORT: String(port),
    TPS_CONSOLE_OTLP_TOKEN: token,
  };
}

export async function chooseTracing(env: NodeJS.ProcessEnv, probe: (base: string) => Promise<boolean> = otlpReceiverAnswers, places: TracingPlaces = {}): Promise<TracingChoice> {
  const { startedJaeger, jaegerUi, consoleOtlpPort } = places;
  const ui: Record<string, string> = jaegerUi ? { TPS_JAEGER_UI_URL: jaegerUi } : {};
  if (chosenBy.some((name) => (env[name] ?? '').trim() !== '')) {
    const settings = tracingSettings(env);
    return { env: { ...ui }, note: settings.enabled ? `tracing on: spans go to ${settings.endpoint ?? settings.exporters.join(', ')}` : `tracing off (${settings.reason})` };
  }
  if (startedJaeger) return { env: { OTEL_EXPORTER_OTLP_ENDPOINT: startedJaeger, ...ui }, note: `tracing on: spans go to the Jaeger started here (${startedJaeger})` };
  if (await probe(defaultOtlpEndpoint)) {
    return { env: { OTEL_EXPORTER_OTLP_ENDPOINT: defaultOtlpEndpoint, TPS_JAEGER_UI_URL: jaegerUi ?? 'http://127.0.0.1:16686' }, note: `tracing on: an OTLP receiver answers at ${defaultOtlpEndpoint} (Jaeger UI: http://127.0.0.1:16686)` };
  }
  if (consoleOtlpPort !== undefined && !(await probe(`http://127.0.0.1:${consoleOtlpPort}`))) {
    return { env: consoleReceiver(consoleOtlpPort), note: `tracing on: spans go to the console's own receiver (127.0.0.1:${consoleOtlpPort}, no Jaeger here); a job's trace is on its page in the console, /jobs/<id>` };
  }
  return { env: {}, note: `tracing off: no OTLP receiver at ${defaultOtlpEndpoint} (start Jaeger, or set OTEL_EXPORTER_OTLP_ENDPOINT)` };
}
