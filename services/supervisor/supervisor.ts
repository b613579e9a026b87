// Native run mode: NATS (reused or started), provisioning, every role as a child process with
// restart on crash, readiness, and an ordered stop. Progress goes to `say` as plain lines.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { childEnvironment, type Config } from '#platform/config.ts';
import { createLogger } from '#platform/logger.ts';
import { connectNats } from '#platform/nats/connect.ts';
import { provision } from '#platform/nats/provision.ts';
import { declareTopology } from '#platform/nats/topology.ts';
import { stateDir as resolveStateDir } from '#platform/paths.ts';
import { defaultPorts } from '#platform/ports.ts';
import { roleNodeArgs, type RoleDefinition } from '#services/roles.ts';
import { ensureBroker, type Broker } from './broker.ts';
import { removeOperatorEnv, type Passwords } from '#platform/nats/credentials.ts';
import { roleUsers } from '#platform/nats/permissions.ts';
import { extraProcesses } from './extras.ts';
import { manage, type ManagedProcess, type ManagedProcessSpec } from './managed-process.ts';
import { portFree } from './ports.ts';
import { chooseTracing, otlpReceiverAnswers } from './tracing.ts';
import { startFaultControl, type FaultControl } from './fault-control.ts';
import { writeState, type SupervisorPhase, type SupervisorState } from './state-file.ts';

export type Supervisor = {
  stop(reason: string): Promise<void>;
  readonly stopped: Promise<void>;
  /** The pid of a role's (or an extra's) current process. */
  pidOf(name: string): number | undefined;
  /** Names of the processes this supervisor manages ('nats' only when it started nats-server). */
  processNames(): string[];
  /** Stops a managed process and keeps it stopped (no restart) until resume(). System faults use this. */
  pause(name: string): Promise<boolean>;
  resume(name: string): Promise<boolean>;
};

type RoleProcess = { role: RoleDefinition; port: number; proc: ManagedProcess; ready: boolean };

/** A process the supervisor starts besides the roles (Prometheus, Grafana, Jaeger, ...). */
export type ExtraProcess = { name: string; url: string; spec: Omit<ManagedProcessSpec, 'logFile'>; readyUrl?: string };

export type SupervisorOptions = {
  /** Extra environment for every role (on top of this process's environment). */
  childEnv?: Record<string, string>;
};

export async function startSupervisor(config: Config, roles: readonly RoleDefinition[], say: (line: string) => void, opts: SupervisorOptions = {}): Promise<Supervisor> {
  const started = Date.now();
  const dir = resolveStateDir(config.stateDir);
  const logDir = path.join(dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const state: SupervisorState = {
    pid: process.pid, phase: 'starting', startedAt: new Date().toISOString(),
    nats: { url: config.nats.servers[0] ?? '', managed: false }, processes: [], notes: [],
  };
  let broker: Broker | undefined;
  const running: RoleProcess[] = [];
  const extras: Array<{ extra: ExtraProcess; proc: ManagedProcess }> = [];
  const paused = new Set<string>();
  let faultControl: FaultControl | undefined;
  const save = (phase?: SupervisorPhase) => {
    if (phase) state.phase = phase;
    const report = (name: string, proc: ManagedProcess, ready: boolean, url: string) => ({
      name, state: paused.has(name) ? 'paused' : proc.state, ready, restarts: proc.restarts, log: proc.spec.logFile, url,
      ...(proc.pid ? { pid: proc.pid } : {}), ...(proc.lastExit ? { lastExit: proc.lastExit } : {}),
    });
    state.processes = [
      ...running.map(({ role, port, proc, ready }) => report(role.name, proc, ready, `http://127.0.0.1:${port}`)),
      ...extras.map(({ extra, proc }) => report(extra.name, proc, proc.state === 'running', extra.url)),
    ];
    writeState(dir, state);
  };
  const managedByName = (name: string): ManagedProcess | undefined =>
    name === 'nats' ? broker?.managed : (running.find((r) => r.role.name === name)?.proc ?? extras.find((e) => e.extra.name === name)?.proc);

  let stopping: Promise<void> | undefined;
  let resolveStopped: () => void = () => {};
  const stopped = new Promise<void>((resolve) => { resolveStopped = resolve; });
  async function stop(reason: string): Promise<void> {
    stopping ??= (async () => {
      say(`stopping (${reason})`);
      save('stopping');
      await faultControl?.close();
      for (const { extra, proc } of extras) {
        await proc.stop(5_000);
        say(`  stopped ${extra.name}`);
      }
      // Ingress first so nothing new is accepted, then the workers drain, then what they call.
      for (const { role, proc } of [...running].reverse()) {
        await proc.stop(config.shutdownGraceMs);
        say(`  stopped ${role.name}`);
        save();
      }
      if (broker?.managed) {
        await broker.managed.stop(5_000);
        removeOperatorEnv(dir);
        say('  stopped nats-server');
      }
      save(state.phase === 'failed' ? 'failed' : 'stopped');
      resolveStopped();
    })();
    return stopping;
  }

  const self: Supervisor = {
    stop,
    stopped,
    pidOf: (name) => managedByName(name)?.pid,
    processNames: () => [...(broker?.managed ? ['nats'] : []), ...running.map((r) => r.role.name), ...extras.map((e) => e.extra.name)],
    async pause(name) {
      const proc = managedByName(name);
      if (!proc || stopping) return false;
      paused.add(name);
      await proc.stop(config.shutdownGraceMs);
      say(`paused ${name}`);
      save();
      return true;
    },
    async resume(name) {
      const proc = managedByName(name);
      if (!proc || !paused.has(name) || stopping) return false;
      paused.delete(name);
      proc.start();
      say(`resumed ${name}`);
      save();
      return true;
    },
  };

  try {
    const offset = config.http.portOffset;
    const busy = [];
    for (const role of roles) if (!(await portFree(role.port + offset))) busy.push(`${role.name} (${role.port + offset})`);
    if (busy.length > 0) throw new Error(`ports already in use: ${busy.join(', ')}. Is TPS Lab already running (\`tps down\`), or another program using them?`);

    broker = await ensureBroker(config.nats.servers[0] ?? 'nats://127.0.0.1:4222', { stateDir: dir, monitorPort: defaultPorts.natsMonitoring + offset });
    state.nats = { url: broker.url, managed: Boolean(broker.managed), ...(broker.monitorUrl ? { monitorUrl: broker.monitorUrl } : {}) };
    say(broker.managed ? `started nats-server at ${broker.url} (store ${path.join(dir, 'nats')})` : `using the NATS already answering at ${broker.url}`);

    const logger = createLogger('supervisor', { ...config, log: { level: 'warn' } });
    const passwords = broker.passwords;
    const operator = passwords ? { user: 'operator', password: passwords.operator } : {};
    const nc = await connectNats({ ...config.nats, ...operator, servers: [broker.url] }, { name: 'tps-supervisor', logger });
    const actions = await provision(nc, declareTopology(config)).finally(() => nc.close());
    const changed = actions.filter((a) => a.action !== 'unchanged');
    say(`provisioned NATS topology (${changed.length ? changed.map((a) => `${a.action} ${a.name}`).join(', ') : 'already up to date'})`);

    // Monitoring first, so Jaeger is there to receive the roles' first spans.
    const found = await extraProcesses({ config, stateDir: dir, offset, natsUrl: broker.url });
    for (const note of found.notes) { state.notes.push(note); say(note); }
    for (const extra of found.processes) {
      const proc = manage({ ...extra.spec, logFile: path.join(logDir, `${extra.name}.log`) }, {
        onExit: (p, how, willRestart) => { say(`${p.spec.name} ${how}${willRestart ? '; restarting' : ''} (log: ${p.spec.logFile})`); save(); },
      });
      extras.push({ extra, proc });
      proc.start();
      say(`started ${extra.name} at ${extra.url}`);
    }
    const jaeger = found.processes.some((p) => p.name === 'jaeger') ? `http://127.0.0.1:${defaultPorts.otlpHttp + offset}` : undefined;
    const tracing = await chooseTracing(childEnvironment(opts.childEnv ?? {}), otlpReceiverAnswers, jaeger);
    state.notes.push(tracing.note);
    say(tracing.note);
    for (const role of roles) {
      const logFile = path.join(logDir, `${role.name}.log`);
      writeFileSync(logFile, '');
      const proc = manage({
        name: role.name,
        command: process.execPath,
        args: roleNodeArgs(role.name),
        env: childEnvironment({
          ...opts.childEnv, ...tracing.env, ...role.env, NATS_URL: broker.url, HTTP_PORT: String(role.port + offset), INSTANCE_ID: role.name, OTEL_SERVICE_NAME: role.name,
          ...roleCredentials(role.name, passwords, config.admin.enabled),
        }),
        logFile,
        restart: true,
      }, {
        onExit: (p, how, willRestart) => {
          entry.ready = false;
          say(`${p.spec.name} ${how}${willRestart ? '; restarting' : ''} (log: ${p.spec.logFile})`);
          save();
        },
      });
      const entry: RoleProcess = { role, port: role.port + offset, proc, ready: false };
      running.push(entry);
      proc.start();
    }
    save();
    await waitUntilReady(running, config, () => save());
    state.readyMs = Date.now() - started;
    say(`all ${running.length} roles ready in ${(state.readyMs / 1000).toFixed(1)} s`);
    faultControl = await startFaultControl({
      config, stateDir: dir, logger, nats: { ...config.nats, ...operator, servers: [broker.url] },
      host: {
        nats: state.nats,
        processNames: () => self.processNames(),
        pause: (name) => self.pause(name),
        resume: (name) => self.resume(name),
        changed: (faults) => { state.systemFaults = faults; save(); },
        say,
      },
    });
    save('running');
    void watchReadiness(running, () => stopping !== undefined, () => save());
  } catch (err) {
    state.error = err instanceof Error ? err.message : String(err);
    state.phase = 'failed';
    await stop('start failed');
    throw err;
  }
  return self;
}

async function probeReady(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1_000) });
    return res.ok;
  } catch {
    return false;
  }
}

async function waitUntilReady(running: RoleProcess[], config: Config, changed: () => void): Promise<void> {
  const deadline = Date.now() + Math.max(30_000, config.nats.connectTimeoutMs + 10_000);
  for (;;) {
    const pending = running.filter((r) => !r.ready);
    if (pending.length === 0) return;
    for (const r of pending) {
      if (r.proc.restarts >= 3) {
        throw new Error(`${r.role.name} keeps failing at start (${r.proc.lastExit}); see ${r.proc.spec.logFile}`);
      }
      if (await probeReady(r.port)) { r.ready = true; changed(); }
    }
    if (Date.now() > deadline) throw new Error(`not ready in time: ${pending.map((r) => r.role.name).join(', ')} (see .tps/logs/)`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Keeps the readiness column of the state file current for `tps status`. */
async function watchReadiness(running: RoleProcess[], stopping: () => boolean, changed: () => void): Promise<void> {
  while (!stopping()) {
    await new Promise((resolve) => setTimeout(resolve, 2_000).unref());
    let dirty = false;
    for (const r of running) {
      const ready = r.proc.state === 'running' && (await probeReady(r.port));
      if (ready !== r.ready) { r.ready = ready; dirty = true; }
    }
    if (dirty && !stopping()) changed();
  }
}

/** A role's NATS user and password when this supervisor runs its own (authenticated) NATS. The
 * admin API (served by the autoscaler when enabled) does what the `tps` command does, so it runs as
 * the operator. */
function roleCredentials(role: string, passwords: Passwords | undefined, adminApi: boolean): Record<string, string> {
  const user = role === 'autoscaler' && adminApi ? 'operator' : roleUsers[role];
  if (!passwords || !user) return {};
  return { NATS_USER: user, NATS_PASSWORD: passwords[user] };
}
