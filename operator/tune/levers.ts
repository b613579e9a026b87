// What `tps tune` can sweep: a live parameter (platform/params/catalogue.ts), or a pool lever of
// lab 3.2 (a pool's slots per worker, its queue size). Each lever says what is in force before the
// sweep, applies a value and waits until the running roles report it, and puts the value as it was
// back at the end. Pool slots are swept only with the autoscaler off: it would change them under
// the measurement.
import type { NatsConnection } from '@nats-io/transport-node';
import { scrapeAll } from '#operator/status/collect.ts';
import { parametersInForce } from '#operator/status/parameters-in-force.ts';
import type { Target } from '#operator/status/replica-targets.ts';
import { isInstanceOf } from '#operator/supervisor/role-instances.ts';
import type { Config } from '#platform/config.ts';
import type { ControlOperations } from '#platform/control/operations.ts';
import type { ControlStore } from '#platform/control/store.ts';
import { setQueueSize, queueSizeRange } from '#platform/nats/queue-lever.ts';
import { findParameter, parseParameterValue, show, type ParameterDef } from '#platform/params/catalogue.ts';
import type { ParameterOperations } from '#platform/params/operations.ts';
import { isPool, poolDefinitions, poolNames, type Pool } from '#platform/pools.ts';

export class TuneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TuneError';
  }
}

export type TunedLever = {
  name: string;
  show(value: number): string;
  parse(text: string): { value: number } | { error: string };
  /** What is in force before the sweep, in words, and waits until the roles apply it. */
  baseline(): Promise<string>;
  /** Applies `value` (undefined: the start-up value) and waits until every role that applies it reports it. */
  apply(value: number | undefined): Promise<void>;
  /** Puts the value as it was before the sweep back and waits until the roles apply it. */
  restore(): Promise<void>;
};

export type LeverSources = {
  targets: readonly Target[]; by: string; applyTimeoutMs: number;
  params: ParameterOperations; control: ControlStore; operations: ControlOperations; nc: NatsConnection; config: Config;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `done` holds; a TuneError naming `what` when it does not within the deadline. */
async function until(done: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new TuneError(`${what} was not in force everywhere within ${timeoutMs} ms`);
    await sleep(200);
  }
}

function parameterLever(p: ParameterDef, s: LeverSources): TunedLever {
  let original: { value: number; by: string; reason?: string } | undefined;
  const inForce = (value: number | undefined) => until(async () => {
    const reports = (await parametersInForce(s.targets)).get(p.name) ?? [];
    if (reports.length === 0) throw new TuneError(`no running process applies ${p.name} (${p.appliesTo}): is the system up?`);
    return value === undefined ? reports.every((r) => !r.overridden) : reports.every((r) => r.value === value);
  }, s.applyTimeoutMs, p.name);
  return {
    ...describe(p.name),
    async baseline() {
      original = (await s.params.list()).find((v) => v.name === p.name)?.override;
      await inForce(original?.value);
      return original ? `${show(p, original.value)} (set by ${original.by})` : 'the start-up value';
    },
    async apply(value) {
      if (value === undefined) await s.params.reset(p.name, s.by);
      else await s.params.set(p.name, String(value), s.by, 'tps tune');
      await inForce(value);
    },
    async restore() {
      if (original) await s.params.set(p.name, String(original.value), s.by, original.reason ?? 'tps tune: put back');
      else await s.params.reset(p.name, s.by);
      await inForce(original?.value);
    },
  };
}

/** What the pool's workers, or the ingress for the queue, report now. */
async function reported(targets: readonly Target[], role: string, metric: string, pool: Pool): Promise<number[]> {
  return (await scrapeAll(targets)).filter((x) => isInstanceOf(x.target.role, role) && !x.error)
    .map((x) => x.samples.find((m) => m.name === metric && m.labels.pool === pool)?.value).filter((v): v is number => v !== undefined);
}

const whole = (min: number, max: number) => (text: string): { value: number } | { error: string } => {
  const n = Number(text);
  return /^\d+$/.test(text) && n >= min && n <= max ? { value: n } : { error: `expected a whole number from ${min} to ${max}; got "${text}"` };
};

function slotsLever(pool: Pool, s: LeverSources): TunedLever {
  let original = 0;
  const inForce = (value: number) => until(async () => {
    const slots = await reported(s.targets, `worker-${pool}`, 'tps_worker_slots', pool);
    if (slots.length === 0) throw new TuneError(`no ${pool} worker is running: is the system up?`);
    return slots.every((v) => v === value);
  }, s.applyTimeoutMs, `pool.${pool}.slots`);
  return {
    ...describe(`pool.${pool}.slots`),
    async baseline() {
      if ((await s.control.autoscalerEnabled())?.enabled ?? s.config.autoscaler.enabled) {
        throw new TuneError(`the autoscaler changes pool.${pool}.slots itself and would move it under the measurement: \`tps autoscaler disable\` first (and enable it after)`);
      }
      const slots = await reported(s.targets, `worker-${pool}`, 'tps_worker_slots', pool);
      if (slots.length === 0 || new Set(slots).size > 1) throw new TuneError(`the ${pool} workers report ${slots.length ? `different slots (${slots.join(', ')})` : 'nothing'}: is the system up?`);
      original = slots[0] ?? 0;
      return `${original} slots`;
    },
    async apply(value) {
      const slots = value ?? poolDefinitions[pool].slots.initial;
      await s.operations.scale(pool, slots, s.by);
      await inForce(slots);
    },
    async restore() {
      await s.operations.scale(pool, original, s.by);
      await inForce(original);
    },
  };
}

function queueLever(pool: Pool, s: LeverSources): TunedLever {
  let original: number | undefined;
  const inForce = (value: number) => until(async () => (await reported(s.targets, 'ingress', 'tps_queue_capacity', pool)).every((v) => v === value), s.applyTimeoutMs, `pool.${pool}.queue`);
  return {
    ...describe(`pool.${pool}.queue`),
    async baseline() {
      original = (await s.control.queue(pool))?.capacity;
      return original === undefined ? `the configured size (${s.config.queues.capacity[pool]} jobs)` : `${original} jobs (set live)`;
    },
    async apply(value) {
      await setQueueSize(s.nc, s.config, pool, value, s.by);
      await inForce(value ?? s.config.queues.capacity[pool]);
    },
    async restore() {
      await setQueueSize(s.nc, s.config, pool, original, s.by);
      await inForce(original ?? s.config.queues.capacity[pool]);
    },
  };
}

/** What kind of lever a name is (lab 3.2 measures one of each kind): breaker, timeout, cache,
 * fallback, autoscaler (a live parameter's first part), slots or queue (a pool lever). */
export function leverKind(name: string): string {
  return poolLever(name)?.kind ?? name.split('.')[0] ?? name;
}

/** The pool levers `tps tune` sweeps, as `tps config` names them (replicas start processes: too slow to sweep). */
export const tunablePoolLevers = poolNames.flatMap((pool) => [`pool.${pool}.slots`, `pool.${pool}.queue`]);

const poolLever = (name: string): { pool: Pool; kind: 'slots' | 'queue' } | undefined => {
  const m = /^pool\.([a-z]+)\.(slots|queue)$/.exec(name);
  return m && isPool(m[1] ?? '') ? { pool: m[1] as Pool, kind: m[2] as 'slots' | 'queue' } : undefined;
};

/** How the lever's values read and print, before anything is connected (flags are checked first). */
export function tunableValues(name: string): Pick<TunedLever, 'name' | 'show' | 'parse'> | undefined {
  const p = findParameter(name);
  if (p) return { name: p.name, show: (v) => show(p, v), parse: (text) => parseParameterValue(p, text) };
  const l = poolLever(name);
  if (!l) return undefined;
  const { min, max } = l.kind === 'slots' ? poolDefinitions[l.pool].slots : queueSizeRange;
  return { name, show: (v) => `${v} ${l.kind === 'slots' ? 'slots' : 'jobs'}`, parse: whole(min, max) };
}

/** A lever's name, show and parse, from the one place that defines them (tunableValues). */
const describe = (name: string) => tunableValues(name) as Pick<TunedLever, 'name' | 'show' | 'parse'>;

/** The lever named, ready to sweep; undefined when there is none of that name. */
export function findTunedLever(name: string, s: LeverSources): TunedLever | undefined {
  const p = findParameter(name);
  if (p) return parameterLever(p, s);
  const l = poolLever(name);
  if (!l) return undefined;
  return l.kind === 'slots' ? slotsLever(l.pool, s) : queueLever(l.pool, s);
}
