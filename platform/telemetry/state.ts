// What the telemetry preload did in this process, for the role's start log line and for tests.
// The preload and the role import this same module, so they share one value.
export type TelemetryState =
  | { readonly preloaded: false }
  | { readonly preloaded: true; readonly tracing: boolean; readonly reason: string; readonly serviceName?: string; readonly endpoint?: string };

let state: TelemetryState = { preloaded: false };

export function recordTelemetryState(next: TelemetryState): void {
  state = next;
}

export function telemetryState(): TelemetryState {
  return state;
}

/** True when this process traces (the preload started the SDK): where our own spans are made. */
export function tracingOn(): boolean {
  return state.preloaded && state.tracing;
}

/** A warning when OTEL_* asks for tracing but this process was started without the preload
 * (e.g. `node cli/main.ts run ingress` instead of `tps run ingress`): nothing would be traced. */
export function missingPreloadWarning(env: NodeJS.ProcessEnv): string | undefined {
  if (state.preloaded) return undefined;
  const names = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_TRACES_EXPORTER'].filter((n) => (env[n] ?? '').trim() !== '');
  if (names.length === 0 || (env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return undefined;
  return `${names.join(', ')} set, but the telemetry preload was not loaded, so nothing is traced: start roles with \`tps run <role>\` (node --import ./platform/telemetry/preload.ts ...)`;
}
