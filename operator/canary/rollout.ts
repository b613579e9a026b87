// `tps canary start|promote|rollback`: a canary's life (platform/canary.ts). Start runs the new
// version beside the stable one (natively the supervisor starts the process; in compose the
// `<service>-canary` container runs already) and declares it with its weight and limits; promote
// moves the weight along 10 -> 50 -> 100 %, then makes the new version the stable one (natively the
// stable process restarts on it while the canary takes every call, then the canary stops);
// rollback sends it nothing and stops it. Each step is an audit event (tps.events.canary.*).
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  canaryDefaults, canaryName, canaryServices, canarySteps, isCanaryService, versionName, type CanaryService, type CanaryValue,
} from '#platform/canary.ts';
import type { ControlStore } from '#platform/control/store.ts';
import { publishAuditEvent } from '#platform/nats/audit-events.ts';
import { scrapeAll } from '#operator/status/collect.ts';
import type { Target } from '#operator/status/replica-targets.ts';
import type { CanaryAction, CanaryReply, canaryRequestSchema } from '#operator/supervisor/canary-channel.ts';
import type { z } from 'zod';

export class CanaryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CanaryError';
  }
}

export type RolloutDeps = {
  control: ControlStore; nc: NatsConnection; by: string; targets: readonly Target[];
  /** Natively: the supervisor starts, restarts and stops the processes. */
  processes?: (action: CanaryAction, request: z.input<typeof canaryRequestSchema>) => Promise<CanaryReply>;
  /** In compose: where the caller reaches the running canary container. */
  composeUrl?: (service: CanaryService) => string | undefined;
};

export type StartOptions = { version: string; weight?: number; maxErrorPercent?: number; maxP99Ms?: number; minCalls?: number; windowMs?: number; reason?: string };

export function canaryService(name: string | undefined): CanaryService {
  if (!name || !isCanaryService(name)) throw new CanaryError(`${name ? `"${name}" has no canary` : 'which service?'}; services with one: ${canaryServices.join(', ')}`);
  return name;
}

/** The version a role's running process reports (tps_build_info), on a track; undefined when none answers. */
export async function reportedVersion(targets: readonly Target[], name: string): Promise<string | undefined> {
  const scrapes = await scrapeAll(targets.filter((t) => t.role === name));
  return scrapes.flatMap((s) => s.samples).find((x) => x.name === 'tps_build_info')?.labels.version;
}

const audit = (deps: RolloutDeps, what: string, fields: Record<string, unknown>) => publishAuditEvent(jetstream(deps.nc), `canary.${what}`, deps.by, fields);

async function declare(deps: RolloutDeps, service: CanaryService, value: Omit<CanaryValue, 'by' | 'at'>): Promise<CanaryValue> {
  const full = { ...value, by: deps.by, at: new Date().toISOString() };
  await deps.control.setCanary(service, full);
  return full;
}

async function canaryUrl(deps: RolloutDeps, service: CanaryService, version: string): Promise<string> {
  if (deps.processes) {
    const reply = await deps.processes('start', { service, version, by: deps.by });
    const url = reply.started[0]?.url;
    if (!url) throw new CanaryError(`the supervisor did not start the ${service} canary`);
    return url;
  }
  const url = deps.composeUrl?.(service);
  if (!url) throw new CanaryError(`no ${canaryName(service)} to send calls to: natively run \`make up\`; in compose start it first (docs/canary.md)`);
  const running = await reportedVersion([{ role: canaryName(service), url }], canaryName(service));
  if (running === undefined) throw new CanaryError(`${canaryName(service)} does not answer at ${url}: start it first (docs/canary.md)`);
  if (running !== version) throw new CanaryError(`${canaryName(service)} runs ${running}, not ${version}: set its SERVICE_VERSION and start it again (docs/canary.md)`);
  return url;
}

export async function startCanary(deps: RolloutDeps, service: CanaryService, opts: StartOptions): Promise<CanaryValue> {
  if (!versionName.safeParse(opts.version).success) throw new CanaryError(`version "${opts.version}": letters, digits, ".", "_" or "-", at most 32`);
  const before = await deps.control.canary(service);
  if (before?.state === 'running') throw new CanaryError(`the ${service} canary ${before.version} runs at ${before.weight} %: promote it or roll it back first`);
  const stable = (await reportedVersion(deps.targets, service)) ?? before?.stable ?? 'v1';
  if (stable === opts.version) throw new CanaryError(`${service} runs ${stable} already; a canary is a different version`);
  const url = await canaryUrl(deps, service, opts.version);
  const value = await declare(deps, service, {
    state: 'running', version: opts.version, stable, url,
    weight: opts.weight ?? canaryDefaults.weight, maxErrorPercent: opts.maxErrorPercent ?? canaryDefaults.maxErrorPercent,
    maxP99Ms: opts.maxP99Ms ?? canaryDefaults.maxP99Ms, minCalls: opts.minCalls ?? canaryDefaults.minCalls, windowMs: opts.windowMs ?? canaryDefaults.windowMs,
    ...(opts.reason ? { reason: opts.reason } : {}),
  });
  await audit(deps, 'started', { service, version: value.version, stable, weight: value.weight });
  return value;
}

async function running(deps: RolloutDeps, service: CanaryService): Promise<CanaryValue> {
  const value = await deps.control.canary(service);
  if (!value) throw new CanaryError(`no ${service} canary: \`tps canary start ${service} --version <v>\` first`);
  if (value.state === 'rolled-back') throw new CanaryError(`the ${service} canary ${value.version} was rolled back${value.auto ? ' automatically' : ''} (${value.reason ?? `by ${value.by}`}); start a new one`);
  if (value.state === 'promoted') throw new CanaryError(`${value.version} was promoted already; ${service} runs it`);
  return value;
}

/** The next weight (10 -> 50 -> 100), or `to`; past 100 % the new version becomes the stable one. */
export async function promoteCanary(deps: RolloutDeps, service: CanaryService, to?: number): Promise<CanaryValue> {
  const value = await running(deps, service);
  const next = to ?? canarySteps.find((w) => w > value.weight);
  if (next !== undefined) {
    if (next <= value.weight || next > 100) throw new CanaryError(`the ${service} canary is at ${value.weight} %; promote it to more than that, up to 100`);
    const moved = await declare(deps, service, { ...value, weight: next });
    await audit(deps, 'promoted', { service, version: value.version, from: value.weight, to: next });
    return moved;
  }
  // In compose the stable container is recreated on the new version by hand, the canary keeping
  // every call meanwhile; this step then finds it running the new version.
  if (!deps.processes && (await reportedVersion(deps.targets, service)) !== value.version) {
    const variable = `${service.replace('-', '_').toUpperCase()}_VERSION`;
    throw new CanaryError(`the canary takes every call now; restart the stable ${service} on ${value.version} (\`${variable}=${value.version} docker-compose up -d ${service}\`), then promote again to finish (docs/canary.md)`);
  }
  await deps.processes?.('promote', { service, version: value.version, by: deps.by });
  const done = await declare(deps, service, { ...value, state: 'promoted', stable: value.version, weight: 0 });
  await deps.processes?.('stop', { service, by: deps.by });
  await audit(deps, 'completed', { service, version: value.version, previous: value.stable });
  return done;
}

/** Sends the canary nothing, then stops its process; also after an automatic rollback. */
export async function rollbackCanary(deps: RolloutDeps, service: CanaryService, reason?: string): Promise<CanaryValue> {
  const value = await deps.control.canary(service);
  if (!value || value.state === 'promoted') throw new CanaryError(`no ${service} canary to roll back${value ? `: ${value.version} was promoted` : ''}`);
  const done = value.state === 'rolled-back' ? value
    : await declare(deps, service, { ...value, state: 'rolled-back', weight: 0, ...(reason ? { reason } : {}), auto: false });
  if (value.state === 'running') await audit(deps, 'rolled-back', { service, version: value.version, stable: value.stable, ...(reason ? { reason } : {}), auto: false });
  await deps.processes?.('stop', { service, by: deps.by });
  return done;
}
