// A chain service's canary natively (platform/canary.ts): one more instance of the role,
// `<service>-canary`, on its own port with its own SERVICE_VERSION and DEPLOYMENT_TRACK=canary,
// supervised like every role (log, restart on crash, readiness, Prometheus target). Promoting
// restarts the stable instance on the new version (the caller sends everything to the canary
// meanwhile). One change at a time; what runs is also restored from tps_control at `tps up`.
import { canaryName, canaryPort, isCanaryService, versionName, type CanaryService, type CanaryValue } from '#platform/canary.ts';
import type { RoleDefinition } from '#services/registry.ts';
import { CanaryInputError, CanaryRefused, type CanaryReply } from './canary-channel.ts';
import { portFree } from './port-free.ts';
import { waitUntilReady } from './readiness.ts';
import type { ReplicaHost } from './replica-scaler.ts';
import type { RoleInstance } from './role-instances.ts';
import type { RoleProcess } from './role-process.ts';

export type CanaryProcesses = {
  start(service: string, version: string | undefined, by: string): Promise<CanaryReply>;
  stop(service: string, by: string): Promise<CanaryReply>;
  promote(service: string, version: string | undefined, by: string): Promise<CanaryReply>;
};

const canaryEnv = (version: string) => ({ SERVICE_VERSION: version, DEPLOYMENT_TRACK: 'canary' });

/** The canary instance of a service's role. */
export function canaryInstance(role: RoleDefinition, service: CanaryService, version: string, offset: number): RoleInstance {
  return { role, name: canaryName(service), replica: 1, port: canaryPort(service) + offset, env: canaryEnv(version) };
}

/** What tps_control says runs at `tps up`: the stable version of each service (after a promotion)
 * and a canary still under way; `instances` in start order, each canary right after its service. */
export function withDeployments(instances: readonly RoleInstance[], canaries: Partial<Record<CanaryService, CanaryValue>>, offset: number): RoleInstance[] {
  return instances.flatMap((i) => {
    const service = i.role.name;
    const value = isCanaryService(service) && i.name === service ? canaries[service] : undefined;
    if (!value || !isCanaryService(service)) return [i];
    const stable = { ...i, env: { ...i.env, SERVICE_VERSION: value.stable } };
    return value.state === 'running' ? [stable, canaryInstance(i.role, service, value.version, offset)] : [stable];
  });
}

const view = (r: RoleProcess) => ({
  name: r.instance.name, url: `http://127.0.0.1:${r.instance.port}`, ready: r.ready,
  ...(r.proc.pid ? { pid: r.proc.pid } : {}), ...(r.instance.env?.SERVICE_VERSION ? { version: r.instance.env.SERVICE_VERSION } : {}),
});

function valid(service: string, version: string | undefined): { service: CanaryService; version?: string } {
  if (!isCanaryService(service)) throw new CanaryInputError(`"${service}" has no canary; services with one: service-b, service-c`);
  if (version !== undefined && !versionName.safeParse(version).success) throw new CanaryInputError(`version "${version}": letters, digits, ".", "_" or "-", at most 32`);
  return { service, ...(version !== undefined ? { version } : {}) };
}

async function launchWaited(host: ReplicaHost, instance: RoleInstance, at: number): Promise<RoleProcess> {
  const proc = host.launch(instance);
  host.running.splice(at, 0, proc);
  host.changed();
  try {
    await waitUntilReady([proc], host.readyTimeoutMs, host.changed);
  } catch (err) {
    await stopOne(host, proc);
    throw new CanaryRefused(`${(err as Error).message}; stopped ${instance.name} again`);
  }
  return proc;
}

async function stopOne(host: ReplicaHost, proc: RoleProcess): Promise<{ name: string; exit: string }> {
  const stopping = proc.proc.stop(host.stopGraceMs);
  host.changed();
  await stopping;
  const at = host.running.indexOf(proc);
  if (at >= 0) host.running.splice(at, 1);
  host.changed();
  return { name: proc.instance.name, exit: proc.proc.lastExit ?? 'stopped' };
}

export function canaryProcesses(host: ReplicaHost): CanaryProcesses {
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const refused = host.refusal();
    const next = queue.then(() => (refused ? Promise.reject(new CanaryRefused(refused)) : work()));
    queue = next.catch(() => undefined);
    return next;
  };
  const find = (name: string) => host.running.find((r) => r.instance.name === name);

  return {
    start: (name, version, by) => serial(async () => {
      const { service } = valid(name, version);
      if (!version) throw new CanaryInputError('which version? the canary needs one');
      const running = find(canaryName(service));
      if (running) throw new CanaryRefused(`the ${service} canary already runs (${running.instance.env?.SERVICE_VERSION}): promote it or roll it back first`);
      const stable = find(service);
      if (!stable) throw new CanaryRefused(`this supervisor does not run ${service}`);
      const instance = canaryInstance(stable.instance.role, service, version, host.offset);
      if (!(await portFree(instance.port))) throw new CanaryRefused(`port ${instance.port} is in use; free it, or run TPS Lab at another TPS_PORT_OFFSET`);
      host.say(`starting the ${service} canary ${version} on port ${instance.port} (by ${by})`);
      const proc = await launchWaited(host, instance, host.running.indexOf(stable) + 1);
      return { service, started: [view(proc)], stopped: [] };
    }),
    stop: (name, by) => serial(async () => {
      const { service } = valid(name, undefined);
      const running = find(canaryName(service));
      if (!running) return { service, started: [], stopped: [] };
      host.say(`stopping the ${service} canary (by ${by})`);
      return { service, started: [], stopped: [await stopOne(host, running)] };
    }),
    promote: (name, version, by) => serial(async () => {
      const { service } = valid(name, version);
      if (!version) throw new CanaryInputError('which version does the stable process restart on?');
      const stable = find(service);
      if (!stable) throw new CanaryRefused(`this supervisor does not run ${service}`);
      host.say(`restarting ${service} on ${version} (promoted by ${by})`);
      const at = host.running.indexOf(stable);
      const stopped = await stopOne(host, stable);
      const fresh = await launchWaited(host, { ...stable.instance, env: { ...stable.instance.env, SERVICE_VERSION: version } }, at);
      return { service, started: [view(fresh)], stopped: [stopped] };
    }),
  };
}
