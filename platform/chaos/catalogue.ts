// Faults are data: each has a name, what it does, its parameters with limits, and where it acts.
// Everything is off by default; every fault expires (default 10 min, at most 2 h).
import { z } from 'zod';
import { poolNames, workerRole } from '../pools.ts';
import { chainRoleNames, type RoleName } from '../roles.ts';
import { canaryTargets, type CanaryTarget } from '../canary.ts';
import { describeIssues } from '../issue-words.ts';

const systemTargets = ['nats', 'prometheus', 'grafana', 'jaeger'] as const;
export type ChaosTarget = RoleName | CanaryTarget | (typeof systemTargets)[number];

/** Targets that are our own processes (process faults): every role of platform/roles.ts, in the
 * order a job meets them, then a chain service's canary (platform/canary.ts: a fault on
 * `service-b-canary` acts on the canary only, one on `service-b` on the stable version only). The
 * rest are systems the supervisor runs. */
export const processTargets: readonly ChaosTarget[] = ['ingress', ...poolNames.map(workerRole), ...[...chainRoleNames].reverse(), 'autoscaler', ...canaryTargets];
export const chaosTargets: readonly ChaosTarget[] = [...processTargets, ...systemTargets];

const ms = (max: number, min = 0) => z.number().int().min(min).max(max);

export const faultCatalogue = {
  latency: {
    kind: 'process',
    description: 'Adds delay (ms ± jitter) to the requests the target handles or makes: every one, or a random share (ratio).',
    // ratio < 1: a few slow requests (a query missing its index) lift p99 and leave p50 alone (lab 3.4).
    params: z.strictObject({ ms: ms(120_000, 1), jitter: ms(60_000).default(0), ratio: z.number().min(0.01).max(1).default(1) }),
  },
  error_rate: {
    kind: 'process',
    description: 'Fails this share of requests (0..1) with the given HTTP status.',
    params: z.strictObject({ ratio: z.number().min(0).max(1), status: z.number().int().min(500).max(599).default(500) }),
  },
  hang: {
    kind: 'process',
    description: 'Requests never get an answer (callers see timeouts) until the fault ends.',
    params: z.strictObject({}),
  },
  cpu_burn: {
    kind: 'process',
    description: 'Keeps the target busy on the CPU for this share of the time (0..0.95).',
    params: z.strictObject({ ratio: z.number().min(0.01).max(0.95) }),
  },
  memory_leak: {
    kind: 'process',
    description: 'Retains memory at mb_per_min until cap MB are held (freed when the fault ends, or by restarting the process: one started after the fault was set does not leak).',
    params: z.strictObject({ mb_per_min: z.number().min(1).max(1024), cap: z.number().int().min(1).max(2048).default(256) }),
  },
  bandwidth: {
    kind: 'process',
    description: 'Limits the target\'s request and response bodies to this many kilobits per second.',
    params: z.strictObject({ kbps: z.number().min(1).max(1_000_000) }),
  },
  pool_limit: {
    kind: 'process',
    description: 'Shrinks a chain service\'s concurrency limit (its database pool) to size requests at once.',
    params: z.strictObject({ size: z.number().int().min(1).max(10_000) }),
    /** Only processes with a concurrency limit (the default: every process target). */
    targets: [...chainRoleNames, ...canaryTargets],
  },
  crash: {
    kind: 'process',
    description: 'The target process exits at once (one-shot; the supervisor restarts it).',
    params: z.strictObject({}),
    /** Acts once, when set; the process started after it is left alone. It stays listed until it
     * expires so the dashboards show when it was in force (tps_chaos_fault_active). */
    oneShot: true,
  },
  nats_down: {
    kind: 'system',
    description: 'Stops the NATS server until the fault ends.',
    params: z.strictObject({}),
  },
  monitoring_down: {
    kind: 'system',
    description: 'Stops Prometheus and Grafana until the fault ends.',
    params: z.strictObject({}),
  },
  autoscaler_down: {
    kind: 'system',
    description: 'Stops the autoscaler until the fault ends (workers keep their last slots).',
    params: z.strictObject({}),
  },
} as const;

export type FaultName = keyof typeof faultCatalogue;
export const faultNames = Object.keys(faultCatalogue) as FaultName[];
/** A fault that acts once, when set (a crash), not for as long as it is listed. */
export const isOneShot = (fault: FaultName): boolean => 'oneShot' in faultCatalogue[fault];

/** Which targets each system fault belongs to (the target a user names for it). */
export const systemFaultTargets: Readonly<Record<string, readonly ChaosTarget[]>> = {
  nats_down: ['nats'],
  monitoring_down: ['prometheus', 'grafana'],
  autoscaler_down: ['autoscaler'],
};

export const durations = { defaultMs: 10 * 60_000, maxMs: 2 * 3_600_000 } as const;

/** One active fault as stored in the `tps_chaos` bucket under `<target>.<fault>`. */
export const activeFaultSchema = z.object({
  target: z.enum(chaosTargets),
  fault: z.enum(faultNames as [FaultName, ...FaultName[]]),
  params: z.record(z.string(), z.unknown()),
  setAt: z.string(),
  expiresAt: z.string(),
  by: z.string().default('unknown'),
});
export type ActiveFault = z.infer<typeof activeFaultSchema>;

export type FaultParams<F extends FaultName> = z.output<(typeof faultCatalogue)[F]['params']>;

export class ChaosInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChaosInputError';
  }
}

/** Validates a request to set a fault; every mistake gets a message that says how to fix it. */
export function validateFault(input: { target: string; fault: string; params?: Record<string, unknown>; durationMs?: number }): Omit<ActiveFault, 'setAt' | 'expiresAt' | 'by'> & { durationMs: number } {
  if (!(chaosTargets as readonly string[]).includes(input.target)) {
    throw new ChaosInputError(`unknown target "${input.target}"; targets are: ${chaosTargets.join(', ')}`);
  }
  if (!Object.hasOwn(faultCatalogue, input.fault)) {
    throw new ChaosInputError(`unknown fault "${input.fault}"; faults are: ${faultNames.join(', ')}`);
  }
  const fault = input.fault as FaultName;
  const target = input.target as ChaosTarget;
  const def = faultCatalogue[fault];
  if (def.kind === 'system' && !systemFaultTargets[fault]?.includes(target)) {
    throw new ChaosInputError(`${fault} applies to ${systemFaultTargets[fault]?.join(' or ')}, not ${target}`);
  }
  if (def.kind === 'process' && !processTargets.includes(target)) {
    const own = Object.entries(systemFaultTargets).filter(([, t]) => t.includes(target)).map(([f]) => f);
    throw new ChaosInputError(`${fault} is a process fault; ${target} ${own.length ? `takes only system faults (${own.join(', ')})` : 'takes no faults'}`);
  }
  if ('targets' in def && !(def.targets as readonly string[]).includes(target)) {
    throw new ChaosInputError(`${fault} applies to ${def.targets.join(', ')}; not ${target}`);
  }
  const parsed = def.params.safeParse(input.params ?? {});
  if (!parsed.success) {
    throw new ChaosInputError(`${fault}: ${describeIssues(parsed.error, input.params ?? {}, { root: 'params', key: 'parameter' })} (\`tps chaos faults\` lists the parameters)`);
  }
  const durationMs = input.durationMs ?? durations.defaultMs;
  if (!Number.isFinite(durationMs) || durationMs <= 0 || durationMs > durations.maxMs) {
    throw new ChaosInputError(`duration must be between 1 s and 2 h (got ${Math.round(durationMs / 1000)} s)`);
  }
  return { target, fault, params: parsed.data as Record<string, unknown>, durationMs };
}

/** A validated fault as it is kept: set at `now`, expiring after its duration. */
export function activeFaultFrom(valid: ReturnType<typeof validateFault>, by: string, now = Date.now()): ActiveFault {
  return {
    target: valid.target, fault: valid.fault, params: valid.params, by,
    setAt: new Date(now).toISOString(), expiresAt: new Date(now + valid.durationMs).toISOString(),
  };
}

/** `k=v` words (`ms=5000 jitter=100`) as fault parameters, as `tps chaos set` and the console take
 * them; numbers become numbers, and the catalogue checks the rest. */
export function parseFaultParams(words: readonly string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const word of words) {
    const m = /^([a-z_]+)=(.*)$/.exec(word);
    if (!m?.[1]) throw new ChaosInputError(`"${word}" is not a parameter; write name=value, e.g. ratio=0.5 (\`tps chaos faults\` lists them)`);
    const value = m[2] ?? '';
    params[m[1]] = value !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
  }
  return params;
}

/** Checks what a clear names: a known target, and a fault that can be aimed at it. */
export function validateClear(target: string, fault?: string): void {
  if (!(chaosTargets as readonly string[]).includes(target)) throw new ChaosInputError(`unknown target "${target}"; targets are: ${chaosTargets.join(', ')}`);
  if (fault === undefined) return;
  if (!Object.hasOwn(faultCatalogue, fault)) throw new ChaosInputError(`unknown fault "${fault}"; faults are: ${faultNames.join(', ')}`);
  const name = fault as FaultName;
  const fits = isSystemFault(name) ? systemFaultTargets[name]?.includes(target as ChaosTarget) : processTargets.includes(target as ChaosTarget);
  if (!fits) throw new ChaosInputError(`${fault} cannot be aimed at ${target}, so there is none to clear`);
}

export const faultKey = (target: string, fault: string) => `${target}.${fault}`;

export const isSystemFault = (fault: FaultName): boolean => faultCatalogue[fault].kind === 'system';

