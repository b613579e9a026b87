// Reads, writes and watches the `tps_control` bucket. Values are validated on the way in and on
// the way out: a malformed value written by hand is ignored (and reported), never obeyed.
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { z } from 'zod';
import { buckets } from '../nats/subjects.ts';
import { keyWatcher } from './key-watch.ts';
import { parameterValue, type ParameterName, type ParameterValue } from '../params/catalogue.ts';
import type { Pool } from '../pools.ts';
import { canaryValue, type CanaryService, type CanaryValue } from '../canary.ts';
import {
  autoscalerStatusValue, breakerForceValue, capValue, controlKeys, enabledValue, parseValue, queueValue, slotsValue,
  type AutoscalerStatus, type BreakerForce, type Change, type SlotsValue,
} from './keys.ts';

export type ControlStore = {
  slots(pool: Pool): Promise<SlotsValue | undefined>;
  setSlots(pool: Pool, slots: number, change: Change): Promise<void>;
  autoscalerEnabled(): Promise<(Change & { enabled: boolean }) | undefined>;
  setAutoscalerEnabled(enabled: boolean, change: Change): Promise<void>;
  cap(pool: Pool): Promise<(Change & { max: number }) | undefined>;
  /** `undefined` removes the cap. */
  setCap(pool: Pool, max: number | undefined, change: Change): Promise<void>;
  queue(pool: Pool): Promise<(Change & { capacity: number }) | undefined>;
  /** `undefined` removes the override: the next provisioning applies <POOL>_QUEUE_CAPACITY. */
  setQueue(pool: Pool, capacity: number | undefined, change: Change): Promise<void>;
  breakerForce(name: string): Promise<BreakerForce | undefined>;
  setBreakerForce(name: string, force: BreakerForce['force'], change: Change): Promise<void>;
  parameter(name: ParameterName): Promise<ParameterValue | undefined>;
  /** `undefined` removes the override: every role goes back to its start-up value. */
  setParameter(name: ParameterName, value: number | undefined, change: Change): Promise<void>;
  canary(service: CanaryService): Promise<CanaryValue | undefined>;
  /** `undefined` removes the key: no canary, every call to the stable version. */
  setCanary(service: CanaryService, value: CanaryValue | undefined): Promise<void>;
  autoscalerStatus(): Promise<AutoscalerStatus | undefined>;
  setAutoscalerStatus(status: AutoscalerStatus): Promise<void>;
  /** Calls back with the key's current value (if any) and every later one (`undefined`: deleted). */
  watch<T>(key: string, schema: z.ZodType<T>, onValue: (value: T | undefined) => void, onInvalid?: (text: string) => void): Promise<() => void>;
};

export async function openControlStore(nc: NatsConnection): Promise<ControlStore> {
  const kv: KV = await new Kvm(nc).open(buckets.control);
  const watchKey = keyWatcher(kv);

  async function read<T>(key: string, schema: z.ZodType<T>): Promise<T | undefined> {
    const entry = await kv.get(key);
    if (!entry || entry.operation !== 'PUT') return undefined;
    return parseValue(schema, entry.string());
  }
  const write = async (key: string, value: unknown) => { await kv.put(key, JSON.stringify(value)); };

  return {
    slots: (pool) => read(controlKeys.poolSlots(pool), slotsValue),
    setSlots: (pool, slots, change) => write(controlKeys.poolSlots(pool), { slots, ...change }),
    autoscalerEnabled: () => read(controlKeys.autoscalerEnabled, enabledValue),
    setAutoscalerEnabled: (enabled, change) => write(controlKeys.autoscalerEnabled, { enabled, ...change }),
    cap: (pool) => read(controlKeys.autoscalerCap(pool), capValue),
    async setCap(pool, max, change) {
      if (max === undefined) await kv.delete(controlKeys.autoscalerCap(pool));
      else await write(controlKeys.autoscalerCap(pool), { max, ...change });
    },
    canary: (service) => read(controlKeys.canary(service), canaryValue),
    async setCanary(service, value) {
      if (value === undefined) await kv.delete(controlKeys.canary(service));
      else await write(controlKeys.canary(service), canaryValue.parse(value));
    },
    queue: (pool) => read(controlKeys.queueCapacity(pool), queueValue),
    async setQueue(pool, capacity, change) {
      if (capacity === undefined) await kv.delete(controlKeys.queueCapacity(pool));
      else await write(controlKeys.queueCapacity(pool), { capacity, ...change });
    },
    breakerForce: (name) => read(controlKeys.breakerForce(name), breakerForceValue),
    setBreakerForce: (name, force, change) => write(controlKeys.breakerForce(name), { force, ...change }),
    parameter: (name) => read(controlKeys.parameter(name), parameterValue),
    async setParameter(name, value, change) {
      if (value === undefined) await kv.delete(controlKeys.parameter(name));
      else await write(controlKeys.parameter(name), { value, ...change });
    },
    autoscalerStatus: () => read(controlKeys.autoscalerStatus, autoscalerStatusValue),
    setAutoscalerStatus: (status) => write(controlKeys.autoscalerStatus, status),
    watch: (key, schema, onValue, onInvalid) => watchKey(key, (e) => {
      if (e.operation !== 'PUT') { onValue(undefined); return; }
      const value = parseValue(schema, e.string());
      if (value === undefined) onInvalid?.(e.string());
      else onValue(value);
    }),
  };
}
