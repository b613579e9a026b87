// Processes native mode starts besides the roles, when their programs are installed
// (Prometheus, Grafana, Jaeger). Each is optional; what is missing is said at start.
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { findBinary } from '#platform/binaries.ts';
import { childEnvironment, type Config } from '#platform/config.ts';
import { defaultPorts } from '#platform/ports.ts';
import {
  alertmanagerArgs, jaegerEnvironment, monitoringPaths, nativeAlertmanagerDir, nativePrometheusConfig, nativePrometheusDir, prometheusArgs,
  writeAlertmanagerConfig, writeGrafanaProvisioning, writePrometheusConfig,
} from '#monitoring/native.ts';
import { grafanaDir, grafanaLogin, grafanaSecurityEnvironment } from './grafana-settings.ts';
import { portFree } from './port-free.ts';
import type { ManagedProcessSpec } from './managed-process.ts';

/** What native mode may start besides the roles: not roles (no /readyz, not in `tps status`). */
export const extraNames = ['prometheus', 'alertmanager', 'grafana', 'jaeger'] as const;

export type ExtrasContext = {
  config: Config; stateDir: string; offset: number; natsUrl: string;
  /** The roles this supervisor runs: Prometheus scrapes those, not a role nobody started. */
  roles: readonly string[];
};
/** A process the supervisor starts besides the roles (Prometheus, Grafana, Jaeger, ...). */
export type ExtraProcess = { name: string; url: string; spec: Omit<ManagedProcessSpec, 'logFile' | 'ownSession'>; readyUrl?: string };

type Found = { process?: ExtraProcess; note?: string };

const url = (port: number) => `http://127.0.0.1:${port}`;

async function busy(ports: number[]): Promise<number | undefined> {
  for (const port of ports) if (!(await portFree(port))) return port;
  return undefined;
}

async function prometheus(ctx: ExtrasContext, alertmanagerPort?: number): Promise<Found> {
  const binary = findBinary('prometheus');
  if (!binary) return { note: 'Prometheus not installed: no metrics history, alerts or dashboards (`scripts/bootstrap.sh --with-prometheus` installs Debian\'s).' };
  const port = defaultPorts.prometheus + ctx.offset;
  if (await busy([port])) return { note: `Prometheus not started: port ${port} is in use (a system Prometheus? stop it, or use TPS_PORT_OFFSET).` };
  const dir = nativePrometheusDir(ctx.stateDir);
  // One job per role; the supervisor writes who answers for each (every replica) in targets/.
  const jobs = [...ctx.roles];
  const configFile = writePrometheusConfig(dir, nativePrometheusConfig(dir, jobs, {
    intervalMs: ctx.config.monitoring.scrapeIntervalMs, ...(alertmanagerPort ? { alertmanager: `127.0.0.1:${alertmanagerPort}` } : {}),
  }));
  return {
    process: {
      name: 'prometheus', url: url(port), readyUrl: `${url(port)}/-/ready`,
      spec: { name: 'prometheus', command: binary, args: prometheusArgs(configFile, path.join(dir, 'data'), port), env: childEnvironment({}), restart: true },
    },
    note: `Prometheus scrapes every role and worker replica every ${ctx.config.monitoring.scrapeIntervalMs / 1000} s (config ${configFile}, rules ${monitoringPaths.rules}).`,
  };
}

/** Grafana's home (conf/defaults.ini): next to its bin/ folder, or where Debian packages put it. */
function grafanaHome(binary: string): string | undefined {
  return [path.dirname(path.dirname(realpathSync(binary))), '/usr/share/grafana']
    .find((home) => existsSync(path.join(home, 'conf', 'defaults.ini')));
}

async function grafana(ctx: ExtrasContext): Promise<Found> {
  const binary = findBinary('grafana') ?? findBinary('grafana-server');
  if (!binary) return { note: 'Grafana not installed: dashboards need compose (docker compose up) or a local Grafana (it would get grafana/provisioning/).' };
  const home = grafanaHome(binary);
  if (!home) return { note: `Grafana not started: found ${binary} but not its home folder (conf/defaults.ini).` };
  const port = defaultPorts.grafana + ctx.offset;
  if (await busy([port])) return { note: `Grafana not started: port ${port} is in use.` };
  const dir = grafanaDir(ctx.stateDir);
  const login = grafanaLogin(ctx.stateDir, ctx.config.grafana);
  const provisioning = writeGrafanaProvisioning(path.join(dir, 'provisioning'), {
    prometheus: url(defaultPorts.prometheus + ctx.offset), jaeger: url(defaultPorts.jaegerUi + ctx.offset),
  });
  const env = childEnvironment({
    GF_PATHS_PROVISIONING: provisioning, GF_PATHS_DATA: path.join(dir, 'data'), GF_PATHS_LOGS: path.join(dir, 'logs'),
    GF_PATHS_PLUGINS: path.join(dir, 'plugins'), GF_SERVER_HTTP_ADDR: '127.0.0.1', GF_SERVER_HTTP_PORT: String(port),
    ...grafanaSecurityEnvironment(login, ctx.config.grafana.anonymous),
    GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH: path.join(monitoringPaths.dashboards, 'tps-overview.json'),
    GF_ANALYTICS_REPORTING_ENABLED: 'false', GF_ANALYTICS_CHECK_FOR_UPDATES: 'false',
  });
  // The single `grafana` binary takes a subcommand; the older `grafana-server` does not.
  const args = [...(path.basename(binary) === 'grafana' ? ['server'] : []), `--homepath=${home}`];
  return {
    process: { name: 'grafana', url: url(port), readyUrl: `${url(port)}/api/health`, spec: { name: 'grafana', command: binary, args, env, restart: true } },
    note: [
      `Grafana: log in as admin (password: ${'file' in login.password ? login.password.file : 'GRAFANA_ADMIN_PASSWORD'}); sign-up off; ` +
        `anonymous viewing ${ctx.config.grafana.anonymous ? 'on (GRAFANA_ANONYMOUS=true)' : 'off (GRAFANA_ANONYMOUS=true turns it on)'}.`,
      ...(login.note ? [login.note] : []),
    ].join(' '),
  };
}

/** Debian names it prometheus-alertmanager; the project's own release, alertmanager. */
async function alertmanager(ctx: ExtrasContext): Promise<Found> {
  if (!findBinary('prometheus')) return {};
  const binary = findBinary('prometheus-alertmanager') ?? findBinary('alertmanager');
  if (!binary) return { note: 'Alertmanager not installed: alerts stay in Prometheus\' UI (`scripts/bootstrap.sh --with-prometheus` installs Debian\'s).' };
  const port = defaultPorts.alertmanager + ctx.offset;
  if (await busy([port])) return { note: `Alertmanager not started: port ${port} is in use.` };
  const dir = nativeAlertmanagerDir(ctx.stateDir);
  const consoleUrl = url(defaultPorts.console + ctx.offset);
  const configFile = writeAlertmanagerConfig(dir, consoleUrl);
  return {
    process: {
      name: 'alertmanager', url: url(port), readyUrl: `${url(port)}/-/ready`,
      spec: { name: 'alertmanager', command: binary, args: alertmanagerArgs(configFile, path.join(dir, 'data'), port), env: childEnvironment({}), restart: true },
    },
    note: `Alertmanager routes Prometheus' alerts by severity${ctx.roles.includes('console') ? ` to the console (${consoleUrl}, the Andon cord at the top of its board)` : ''} (config ${configFile}).`,
  };
}

async function jaeger(ctx: ExtrasContext): Promise<Found> {
  const binary = findBinary('jaeger');
  if (!binary) return { note: 'Jaeger not installed: traces need compose or a local Jaeger v2 binary named `jaeger` (it would run jaeger/config.yaml).' };
  const ui = defaultPorts.jaegerUi + ctx.offset;
  const taken = await busy([ui, defaultPorts.otlpHttp + ctx.offset]);
  if (taken) return { note: `Jaeger not started: port ${taken} is in use.` };
  return {
    process: {
      name: 'jaeger', url: url(ui), readyUrl: url(ui),
      spec: { name: 'jaeger', command: binary, args: ['--config', monitoringPaths.jaegerConfig], env: childEnvironment(jaegerEnvironment(ctx.offset)), restart: true },
    },
    note: `Jaeger receives OTLP traces at ${url(defaultPorts.otlpHttp + ctx.offset)}.`,
  };
}

export async function extraProcesses(ctx: ExtrasContext): Promise<{ processes: ExtraProcess[]; notes: string[] }> {
  if (ctx.config.monitoring.mode === 'off') return { processes: [], notes: ['Monitoring off (TPS_MONITORING=off): Prometheus, Grafana and Jaeger not started.'] };
  const alerts = await alertmanager(ctx);
  const found = [await prometheus(ctx, alerts.process ? defaultPorts.alertmanager + ctx.offset : undefined), alerts, await grafana(ctx), await jaeger(ctx)];
  return {
    processes: found.flatMap((f) => (f.process ? [f.process] : [])),
    notes: found.flatMap((f) => (f.note ? [f.note] : [])),
  };
}
