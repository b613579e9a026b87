// Native run mode: NATS (its own, or another only when told to), provisioning, every role as a
// child process (a worker pool as many replicas as asked, changed live by `tps scale --replicas`)
// with restart on crash, readiness, and an ordered stop. Progress goes to `say` as plain lines.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { nativePrometheusDir, writeScrapeTargets } from '#monitoring/native.ts';
import { childEnvironment, type Config } from '#platform/config.ts';
import { createLogger, type Logger } from '#platform/logger.ts';
import { removeOperatorEnv } from '#platform/nats/credentials.ts';
import { stateDir as resolveStateDir } from '#platform/paths.ts';
import { defaultPorts } from '#platform/ports.ts';
import type { RoleDefinition } from '#services/registry.ts';
import { brokerLines, ensureBroker, type Broker } from './broker.ts';
import { openControlSocket, type ControlSocket } from './supervisor-socket.ts';
import { extraProcesses, type ExtraProcess } from './extras.ts';
import { startFaultControl, type FaultControl } from './fault-control.ts';
import { manage, type ManagedProcess, type ManagedProcessSpec } from './managed-process.ts';
import { ensurePortsFree } from './port-free.ts';
import { ownStamp } from './process-stamp.ts';
import { waitUntilReady, watchReadiness } from './readiness.ts';
import { ReplicaScaleRefused, type ReplicaChange } from './replica-channel.ts';
import { replicaScaler, type ReplicaHost, type ReplicaScaler } from './replica-scaler.ts';
import { canaryProcesses, withDeployments } from './canary-process.ts';
import { provisionTopology } from './provision-topology.ts';
import { planInstances, scrapeTargets, type RoleInstance } from './role-instances.ts';
import { chooseRoleBuild } from './role-build.ts';
import { launchRole, type RoleLaunch, type RoleProcess } from './role-process.ts';
import { writeState, type SupervisorPhase, type SupervisorState } from './state-file.ts';
import { chooseTracing, otlpReceiverAnswers } from './tracing.ts';

export type Supervisor = {
  stop(reason: string): Promise<void>;
  readonly stopped: Promise<void>;
  /** The pid of a role instance's (or an extra's) current process. */
  pidOf(name: string): number | undefined;
  /** Names of the processes this supervisor manages ('nats' only when it started nats-server). */
  processNames(): string[];
  /** Stops a managed process and keeps it stopped (no restart) until resume(). System faults use this. */
  pause(name: string): Promise<boolean>;
  resume(name: string): Promise<boolean>;
  /** Starts or stops worker processes of a pool (`tps scale <pool> --replicas <n>`). */
  scaleReplicas(pool: string, replicas: number, by: string): Promise<ReplicaChange>;
};

export type SupervisorOptions = {
  /** Extra environment for every role (on top of this process's environment). */
  childEnv?: Record<string, string>;
  /** How long the roles get to answer /readyz, at start and when a replica is added (`tps up
   * --timeout`). Default: 60 s, or NATS' connect timeout plus 10 s when that is longer. */
  readyTimeoutMs?: number;
  /** Aborted (a signal while starting): the start gives up and stops what it started. */
  signal?: AbortSignal;
  /** Its processes in this process's group (a test's stack, ended by a Ctrl-C of the test run); by default each has a session of its own (ManagedProcessSpec.ownSession). */
  sharedProcessGroup?: boolean;
};

/** What one run of the supervisor holds; the functions below share it. */
type Run = {
  config: Config; roles: readonly RoleDefinition[]; say: (line: string) => void; opts: SupervisorOptions;
  dir: string; logDir: string; offset: number; state: SupervisorState;
  running: RoleProcess[]; extras: Array<{ extra: ExtraProcess; proc: ManagedProcess }>; paused: Set<string>;
  broker?: Broker; faultControl?: FaultControl; controlSocket?: ControlSocket; scaler?: ReplicaScaler; stopping?: Promise<void>;
};

export async function startSupervisor(config: Config, roles: readonly RoleDefinition[], say: (line: string) => void, opts: SupervisorOptions = {}): Promise<Supervisor> {
  const dir = resolveStateDir(config.stateDir);
  const logDir = path.join(dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const run: Run = {
    config, roles, say, opts, dir, logDir, offset: config.http.portOffset, running: [], extras: [], paused: new Set(),
    state: {
      pid: process.pid, stamp: ownStamp(), phase: 'starting', startedAt: new Date().toISOString(),
      nats: { url: config.nats.servers[0] ?? '', managed: false }, processes: [], notes: [],
    },
  };
  let resolveStopped: () => void = () => {};
  const stopped = new Promise<void>((resolve) => { resolveStopped = resolve; });
  const stop = (reason: string) => (run.stopping ??= stopAll(run, reason).then(resolveStopped));
  const handle = supervisorHandle(run, stop, stopped);
  try {
    await bringUp(run, handle);
  } catch (err) {
    run.state.error = err instanceof Error ? err.message : String(err);
    run.state.phase = 'failed';
    await stop('start failed');
    throw err;
  }
  return handle;
}

function save(run: Run, phase?: SupervisorPhase): void {
  const { state, paused } = run;
  if (phase) state.phase = phase;
  const report = (name: string, proc: ManagedProcess, ready: boolean, url: string) => ({
    name, state: paused.has(name) ? 'paused' : proc.state, ready, restarts: proc.restarts, log: proc.spec.logFile, url,
    ...(proc.pid ? { pid: proc.pid } : {}), ...(proc.lastExit ? { lastExit: proc.lastExit } : {}),
  });
  state.processes = [
    ...run.running.map(({ instance, proc, ready }) => report(instance.name, proc, ready, `http://127.0.0.1:${instance.port}`)),
    ...run.extras.map(({ extra, proc }) => report(extra.name, proc, proc.state === 'running', extra.url)),
  ];
  writeState(run.dir, state);
}

/** The set of role instances changed: the state file and Prometheus' file_sd targets follow. */
function instancesChanged(run: Run): void {
  save(run);
  writeScrapeTargets(nativePrometheusDir(run.dir), scrapeTargets(run.running.map((r) => r.instance)));
}

async function stopAll(run: Run, reason: string): Promise<void> {
  const failed = run.state.phase === 'failed';
  run.say(`stopping (${reason})`);
  save(run, 'stopping');
  await run.controlSocket?.close();
  await run.faultControl?.close();
  for (const { extra, proc } of run.extras) {
    await proc.stop(5_000);
    run.say(`  stopped ${extra.name}`);
  }
  // Ingress first so nothing new is accepted, then the workers drain, then what they call.
  for (const { instance, proc } of [...run.running].reverse()) {
    await proc.stop(run.config.shutdownGraceMs);
    run.say(`  stopped ${instance.name}`);
    save(run);
  }
  if (run.broker?.managed) {
    await run.broker.managed.stop(5_000);
    removeOperatorEnv(run.dir);
    run.say('  stopped nats-server');
  }
  save(run, failed ? 'failed' : 'stopped');
}

function supervisorHandle(run: Run, stop: (reason: string) => Promise<void>, stopped: Promise<void>): Supervisor {
  const managedByName = (name: string): ManagedProcess | undefined =>
    name === 'nats' ? run.broker?.managed : (run.running.find((r) => r.instance.name === name)?.proc ?? run.extras.find((e) => e.extra.name === name)?.proc);
  return {
    stop,
    stopped,
    pidOf: (name) => managedByName(name)?.pid,
    processNames: () => [...(run.broker?.managed ? ['nats'] : []), ...run.running.map((r) => r.instance.name), ...run.extras.map((e) => e.extra.name)],
    async pause(name) {
      const proc = managedByName(name);
      if (!proc || run.stopping) return false;
      run.paused.add(name);
      await proc.stop(run.config.shutdownGraceMs);
      run.say(`paused ${name}`);
      save(run);
      return true;
    },
    async resume(name) {
      const proc = managedByName(name);
      if (!proc || !run.paused.has(name) || run.stopping) return false;
      run.paused.delete(name);
      proc.start();
      run.say(`resumed ${name}`);
      save(run);
      return true;
    },
    scaleReplicas: (pool, replicas, by) => run.scaler?.scale(pool, replicas, by) ?? Promise.reject(new ReplicaScaleRefused('the supervisor is still starting')),
  };
}

async function bringUp(run: Run, handle: Supervisor): Promise<void> {
  const started = Date.now();
  const planned = planInstances(run.roles, run.config.workers.replicas, run.offset);
  await ensurePortsFree(planned, run.offset);

  const broker = await ensureBroker(run.config.nats, { stateDir: run.dir, monitorPort: defaultPorts.natsMonitoring + run.offset, ownSession: ownSession(run) });
  run.broker = broker;
  run.state.nats = { url: broker.url, managed: Boolean(broker.managed), ...(broker.monitorUrl ? { monitorUrl: broker.monitorUrl } : {}), ...(broker.warning ? { warning: broker.warning } : {}) };
  for (const line of brokerLines(broker, path.join(run.dir, 'nats'))) run.say(line);
  const logger = createLogger('supervisor', { ...run.config, log: { level: 'warn' } });
  const operator = broker.passwords ? { user: 'operator', password: broker.passwords.operator } : {};
  const nats = { ...run.config.nats, ...operator, servers: broker.url.split(',') };
  // The versions tps_control says run: a promoted one, a canary under way (canary-process.ts).
  const instances = withDeployments(planned, await provisionTopology(run.config, nats, logger, run.say), run.offset);

  // Targets first, so Prometheus finds every instance from its first scrape.
  writeScrapeTargets(nativePrometheusDir(run.dir), scrapeTargets(instances));
  const launch = await startExtras(run, broker);
  await startRoles(run, instances, launch);
  run.state.readyMs = Date.now() - started;
  run.say(`all ${run.running.length} roles ready in ${(run.state.readyMs / 1000).toFixed(1)} s`);
  await openControl(run, handle, { nats, logger, launch });
  save(run, 'running');
  void watchReadiness(run.running, () => run.stopping !== undefined, () => save(run));
}

/** Monitoring first, so Jaeger is there to receive the roles' first spans; returns how roles start. */
async function startExtras(run: Run, broker: Broker): Promise<RoleLaunch> {
  const found = await extraProcesses({ config: run.config, stateDir: run.dir, offset: run.offset, natsUrl: broker.url, roles: run.roles.map((r) => r.name) });
  for (const note of found.notes) { run.state.notes.push(note); run.say(note); }
  for (const extra of found.processes) {
    const proc = manage({ ...extra.spec, logFile: path.join(run.logDir, `${extra.name}.log`), ownSession: ownSession(run) }, {
      onExit: (p, how, willRestart) => { run.say(`${p.spec.name} ${how}${willRestart ? '; restarting' : ''} (log: ${p.spec.logFile})`); save(run); },
      // Its new pid in the state file once restarted (tps restart prometheus, the history's restart wait on it).
      onStart: () => save(run),
    });
    run.extras.push({ extra, proc });
    proc.start();
    run.say(`started ${extra.name} at ${extra.url}`);
  }
  const jaeger = found.processes.some((p) => p.name === 'jaeger') ? `http://127.0.0.1:${defaultPorts.otlpHttp + run.offset}` : undefined;
  const tracing = await chooseTracing(childEnvironment(run.opts.childEnv ?? {}), otlpReceiverAnswers, {
    ...(jaeger ? { startedJaeger: jaeger, jaegerUi: `http://127.0.0.1:${defaultPorts.jaegerUi + run.offset}` } : {}),
    ...(run.roles.some((r) => r.name === 'console') ? { consoleOtlpPort: defaultPorts.otlpHttp + run.offset } : {}),
  });
  run.state.notes.push(tracing.note);
  run.say(tracing.note);
  const build = await chooseRoleBuild(run.config.roleBuild, run.say);
  return {
    logDir: run.logDir, ownSession: ownSession(run), env: { ...run.opts.childEnv, ...tracing.env }, natsUrl: broker.url, passwords: broker.passwords, adminApi: run.config.admin.enabled, build,
    exited: (line) => { run.say(line); save(run); },
  };
}

const ownSession = (run: Run) => !run.opts.sharedProcessGroup;
const readyTimeoutMs = (run: Run) => run.opts.readyTimeoutMs ?? Math.max(60_000, run.config.nats.connectTimeoutMs + 10_000);

async function startRoles(run: Run, instances: readonly RoleInstance[], launch: RoleLaunch): Promise<void> {
  for (const instance of instances) run.running.push(launchRole(instance, launch));
  save(run);
  await waitUntilReady(run.running, readyTimeoutMs(run), () => save(run), run.opts.signal);
}

/** System faults and live replicas, both reached through the control socket. */
async function openControl(run: Run, handle: Supervisor, { nats, logger, launch }: { nats: Config['nats']; logger: Logger; launch: RoleLaunch }): Promise<void> {
  const host: ReplicaHost = {
    running: run.running, roles: run.roles, offset: run.offset, launch: (instance) => launchRole(instance, launch),
    // A stopping replica finishes or hands back its jobs within the grace period, then drains NATS.
    stopGraceMs: run.config.shutdownGraceMs + 5_000, readyTimeoutMs: readyTimeoutMs(run),
    refusal: () => (run.stopping ? 'the supervisor is stopping' : undefined),
    changed: () => instancesChanged(run), say: run.say,
  };
  run.scaler = replicaScaler(host);
  run.faultControl = startFaultControl({
    logger, nats,
    host: {
      nats: run.state.nats,
      processNames: () => handle.processNames(),
      pause: (name) => handle.pause(name),
      resume: (name) => handle.resume(name),
      changed: (faults) => { run.state.systemFaults = faults; save(run); },
      say: run.say,
    },
  });
  run.controlSocket = await openControlSocket(run.dir, { faults: run.faultControl.faults, replicas: run.scaler, canaries: canaryProcesses(host) }, run.say);
}
