// The process side of the control plane: a worker applies its pool's slots live, and every
// process with breakers obeys their force state, so every replica follows one decision. A process
// keeps its last values while nobody writes (the autoscaler is down, or NATS is away).
import type { NatsConnection } from '@nats-io/transport-node';
import type { BreakerState } from '../breaker.ts';
import type { Logger } from '../logger.ts';
import type { Pool } from '../pools.ts';
import { breakerStatusSubject } from '../nats/subjects.ts';
import { breakerForceValue, controlKeys, slotsValue } from './keys.ts';
import type { ControlStore } from './store.ts';

/** What the control plane needs of a breaker (see platform/breaker.ts). */
export type ControlledBreaker = {
  readonly name: string;
  state(): BreakerState;
  readonly forcedOpen: boolean;
  forceOpen(): void;
  release(): void;
};

export type ControlledPool = {
  pool: Pool;
  bounds: { min: number; max: number };
  slots(): number;
  setSlots(n: number): void;
};

export type BreakerReport = { instance: string; role: string; breakers: Array<{ name: string; state: BreakerState; forced: boolean }> };

export type ObeyOptions = { instance: string; role: string; logger: Logger; pool?: ControlledPool; breakers: readonly ControlledBreaker[] };

export async function obeyControl(nc: NatsConnection, control: ControlStore, opts: ObeyOptions): Promise<() => void> {
  const stops: Array<() => void> = [];
  if (opts.pool) stops.push(await followSlots(control, opts.pool, opts.logger));
  for (const breaker of opts.breakers) stops.push(await followForce(control, breaker, opts.logger));
  stops.push(answerBreakerStatus(nc, opts));
  return () => { for (const stop of stops) stop(); };
}

function followSlots(control: ControlStore, pool: ControlledPool, logger: Logger): Promise<() => void> {
  return control.watch(controlKeys.poolSlots(pool.pool), slotsValue, (value) => {
    if (!value) return; // deleted: keep the last slots
    const slots = Math.min(pool.bounds.max, Math.max(pool.bounds.min, value.slots));
    const before = pool.slots();
    if (slots === before) return;
    pool.setSlots(slots);
    logger.info({ pool: pool.pool, from: before, to: slots, by: value.by, reason: value.reason }, `slots ${before} -> ${slots} (set by ${value.by})`);
  }, (text) => logger.warn({ key: controlKeys.poolSlots(pool.pool), value: text }, 'ignoring a malformed slots value in tps_control'));
}

function followForce(control: ControlStore, breaker: ControlledBreaker, logger: Logger): Promise<() => void> {
  return control.watch(controlKeys.breakerForce(breaker.name), breakerForceValue, (value) => {
    if (value?.force === 'open') {
      if (!breaker.forcedOpen) logger.warn({ circuit: breaker.name, by: value.by, reason: value.reason }, `circuit ${breaker.name} forced open by ${value.by}`);
      breaker.forceOpen();
      return;
    }
    const wasOpen = breaker.forcedOpen || breaker.state() !== 'closed';
    breaker.release();
    if (wasOpen && value) logger.warn({ circuit: breaker.name, by: value.by }, `circuit ${breaker.name} closed by ${value.by}; automatic again`);
  }, (text) => logger.warn({ circuit: breaker.name, value: text }, 'ignoring a malformed breaker force value in tps_control'));
}

function answerBreakerStatus(nc: NatsConnection, opts: ObeyOptions): () => void {
  if (opts.breakers.length === 0) return () => {};
  const sub = nc.subscribe(breakerStatusSubject, {
    callback: (_err, msg) => {
      const report: BreakerReport = {
        instance: opts.instance,
        role: opts.role,
        breakers: opts.breakers.map((b) => ({ name: b.name, state: b.state(), forced: b.forcedOpen })),
      };
      msg.respond(JSON.stringify(report));
    },
  });
  return () => sub.unsubscribe();
}
