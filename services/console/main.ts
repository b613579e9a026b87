// Starts the console role: the Andon board in a browser on 127.0.0.1:8090 (ARCHITECTURE section
// 14). It reads what the other roles publish (their /metrics, the chaos bucket) and keeps nothing
// that matters: its lines come from Prometheus when it answers, else from a bounded ring in memory,
// lost on restart; the page says which.
// Where the roles are: TPS_TARGETS (compose), else this machine's `tps up` state, read at every
// sample so restarts and replicas show up. Traces: its own OTLP receiver when told to run one
// (TPS_CONSOLE_OTLP_PORT, with the token the roles send), else a link to Jaeger (TPS_JAEGER_UI_URL).
import { jetstreamManager } from '@nats-io/jetstream';
import type { ActiveFault } from '#platform/chaos/catalogue.ts';
import { isActive, openChaosStore } from '#platform/chaos/store.ts';
import type { RoleContext, RoleParts } from '#platform/role-runtime.ts';
import { nativeTargets, parseTargets, type Target } from '#operator/status/collect.ts';
import { ConfigError } from '#platform/config.ts';
import { stateDir } from '#platform/paths.ts';
import { controlOperations } from '#platform/control/operations.ts';
import { openControlStore } from '#platform/control/store.ts';
import { recentEvents } from '#platform/nats/recent-events.ts';
import { openJobStatusReader } from '#platform/job-status.ts';
import { adminClient } from './admin-client.ts';
import { alertWatch } from './alerts.ts';
import { readQueues } from './queue-detail.ts';
import { buildConsoleApp } from './app.ts';
import { dlqReader } from './dlq-page.ts';
import type { TraceSource } from './job-page.ts';
import { labView } from './lab-view.ts';
import { startOtlpReceiver } from './otlp-receiver.ts';
import { decisionReader } from './decisions.ts';
import { boardHistory } from './history.ts';
import { autoscalerEventSubject, type DecisionEvent } from '#services/autoscaler/events.ts';
import { startSampler } from './sampler.ts';
import { createTraceStore } from './trace-store.ts';

/** Scrapes every 2 s while a page is open; the ring keeps 10 minutes of them. */
const intervalMs = 2_000;
const historyPoints = 300;

export async function startConsole(ctx: RoleContext): Promise<RoleParts> {
  const { config, logger } = ctx;
  const targets = (): Target[] => (config.operator.targets ? parseTargets(config.operator.targets) : nativeTargets(config.stateDir));
  if (config.operator.targets) parseTargets(config.operator.targets); // a bad TPS_TARGETS stops the start, with its reason
  const sampler = ctx.own('stop sampling', startSampler({ targets, intervalMs, historyPoints, logger }), (s) => s.stop());
  let faults: ActiveFault[] = [];
  const stopWatching = await (await openChaosStore(ctx.nc)).watch((active) => { faults = active; });
  ctx.own('stop watching chaos', stopWatching, (stop) => stop());
  const traces = await traceSource(ctx);
  const jsm = jetstreamManager(ctx.nc);
  const control = controlOperations(ctx.nc, await openControlStore(ctx.nc), config.autoscaler.enabled);
  // Lab mode grades with what `tps lab check` reads, all of it read-only here.
  const lab = () => labView(stateDir(config.stateDir), {
    targets: targets(), prometheusUrl: config.operator.prometheusUrl, control,
    events: (subject, since) => recentEvents(ctx.nc, subject, { sinceMs: Date.now() - since.getTime() + 1_000, limit: 10_000 }),
  });
  const app = buildConsoleApp({
    ctx, sampler, intervalMs,
    faults: () => faults.filter((f) => isActive(f)),
    admin: adminClient(config.operator.adminUrl),
    dlq: await dlqReader(ctx.nc),
    jobs: { jobs: await openJobStatusReader(ctx.nc), traces },
    lab,
    alerts: alertWatch(config.operator.alertmanagerUrl),
    queues: () => jsm.then((m) => readQueues(m), () => ({})),
    decisions: decisionReader(() => recentEvents<DecisionEvent>(ctx.nc, autoscalerEventSubject, { sinceMs: 3_600_000, limit: 50 }), 10_000),
    history: boardHistory({ ring: () => sampler.history(), prometheusUrl: config.operator.prometheusUrl, windowMs: historyPoints * intervalMs, stepMs: 10_000, refreshMs: 15_000 }),
    source: `Live from every role's /metrics, every ${intervalMs / 1000} s while a page is open.`,
  });
  return { app };
}

/** At most this many spans of one trace are kept (a job's trace has about a dozen). */
const maxSpansPerTrace = 500;

async function traceSource(ctx: RoleContext): Promise<TraceSource> {
  const { console: settings, http } = ctx.config;
  if (settings.otlpPort !== undefined) {
    if (!settings.otlpToken) throw new ConfigError(['TPS_CONSOLE_OTLP_TOKEN is not set']); // loadConfig refuses this already
    const store = createTraceStore({ maxTraces: settings.maxTraces, maxSpansPerTrace });
    const receiver = await startOtlpReceiver({ host: http.host, port: settings.otlpPort, token: settings.otlpToken, store, logger: ctx.logger });
    ctx.own('close the OTLP receiver', receiver, (r) => r.close());
    ctx.logger.info({ url: receiver.url, maxTraces: settings.maxTraces }, 'console: receiving traces (OTLP/HTTP, protobuf or JSON)');
    return { kind: 'console', store };
  }
  const ui = settings.jaegerUiUrl?.replace(/\/$/, '');
  // Its query API as this process reaches it (compose: the jaeger service), else where the browser does.
  return ui ? { kind: 'jaeger', uiUrl: ui, apiUrl: settings.jaegerUrl?.replace(/\/$/, '') ?? ui } : { kind: 'none' };
}
