// The `tps_control` bucket's keys and values: what operators and the autoscaler decide, and what
// every worker and chain service obeys. Values are JSON with who changed them, when and why.
import { z } from 'zod';
import { poolNames, type Pool } from '../pools.ts';
import { canaryKey } from '../canary.ts';

/** Every breaker in the system (`<caller>-><target>`): one per worker pool, one per chain hop. */
export const breakerNames: readonly string[] = [
  ...poolNames.map((pool) => `worker-${pool}->service-a`),
  'service-a->service-b',
  'service-b->service-c',
];

export function isBreakerName(name: string): boolean {
  return breakerNames.includes(name);
}

// KV keys allow letters, digits, "-", "_", "/", "=" and ".": the arrow becomes "_to_".
const encodeBreaker = (name: string) => name.replace('->', '_to_');

export const controlKeys = {
  /** Slots per worker process of the pool; workers apply it live. */
  poolSlots: (pool: Pool) => `pool.${pool}.slots`,
  autoscalerEnabled: 'autoscaler.enabled',
  /** A runtime cap on the autoscaler's maximum for the pool (absent: the configured maximum). */
  autoscalerCap: (pool: Pool) => `autoscaler.${pool}.max`,
  /** What the autoscaler saw and decided at its last tick (its liveness, for `tps autoscaler status`). */
  autoscalerStatus: 'autoscaler.status',
  breakerForce: (name: string) => `breaker.${encodeBreaker(name)}.force`,
  /** The pool's queue size (its stream's max_msgs) set live; absent: <POOL>_QUEUE_CAPACITY. Applied
   * by provisioning, which reads it whenever it runs (platform/nats/queue-lever.ts). */
  queueCapacity: (pool: Pool) => `pool.${pool}.queue`,
  /** A live parameter's override (platform/params/catalogue.ts); absent: each role's start-up value. */
  parameter: (name: string) => `param.${name}`,
  /** A chain service's canary: its version, weight and limits (platform/canary.ts). The only key
   * a chain service writes: its caller rolls a canary back by itself. */
  canary: canaryKey,
} as const;

const change = { by: z.string().min(1), at: z.iso.datetime(), reason: z.string().optional() };

export const slotsValue = z.object({ slots: z.number().int().min(0), ...change });
export const enabledValue = z.object({ enabled: z.boolean(), ...change });
export const capValue = z.object({ max: z.number().int().min(1), ...change });
export const queueValue = z.object({ capacity: z.number().int().min(1), ...change });
/** `open`: forced open until released. `auto`: released (closed, then automatic again). */
export const breakerForceValue = z.object({ force: z.enum(['open', 'auto']), ...change });

export type Change = { by: string; at: string; reason?: string };
export type SlotsValue = z.infer<typeof slotsValue>;
export type BreakerForce = z.infer<typeof breakerForceValue>;

const poolStatus = z.object({
  workers: z.number().int(),
  slots: z.number().int(),
  busy: z.number(),
  utilization: z.number(),
  lag: z.number().int(),
  throughput: z.number(),
  desired: z.number().int(),
  min: z.number().int(),
  max: z.number().int(),
  reason: z.string(),
  bottleneck: z.boolean(),
});

export const autoscalerStatusValue = z.object({
  instance: z.string(),
  at: z.iso.datetime(),
  enabled: z.boolean(),
  tickMs: z.number().int(),
  pools: z.record(z.enum(poolNames), poolStatus),
});
export type AutoscalerStatus = z.infer<typeof autoscalerStatusValue>;
export type PoolStatus = z.infer<typeof poolStatus>;

export function parseValue<T>(schema: z.ZodType<T>, text: string): T | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
