// The process side of the control plane: a worker applies its pool's slots live, and every
// process with breakers obeys their force state, so every replica follows one decision. A process
// keeps its last values while nobody writes (the autoscaler is down, or NATS is away).
import type { NatsConnection } from '@nats-io/transport-node';
import type { BreakerPolicy, BreakerState, TunablePolicy } from '../breaker.ts';
import type { MetricsRegistry } from '../metrics.ts';
import { findParameter, type ParameterName } from '../params/catalogue.ts';
import { followParameters, type FollowedParameter } from '../params/follow.ts';
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
  readonly policy: BreakerPolicy;
  tune(patch: Partial<TunablePolicy>): void;
};

export type ControlledPool = {
  pool: Pool;
  bounds: { min: number; max: number };
  slots(): number;
  setSlots(n: number): void;
};

export type BreakerReport = { instance: string; role: string; breakers: Array<{ name: string; state: BreakerState; forced: boolean }> };

export type ObeyOptions = { instance: string; role: string; logger: Logger; registry?: MetricsRegistry; pool?: ControlledPool; breakers: readonly ControlledBreaker[] };

export async function obeyControl(nc: NatsConnection, control: ControlStore, opts: ObeyOptions): Promise<() => void> {
  const stops: Array<() => void> = [];
  if (opts.pool) stops.push(await followSlots(control, opts.pool, opts.logger));
  for (const breaker of opts.breakers) stops.push(await followForce(control, breaker, opts.logger));
  const parameters = breakerParameters(opts.breakers);
  if (parameters.length > 0) stops.push(await followParameters(control, parameters, { logger: opts.logger, ...(opts.registry ? { registry: opts.registry } : {}) }));
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

/** The breaker.* parameters apply to every breaker of the process; timeout.<service> to the breakers calling that service. */
function breakerParameters(breakers: readonly ControlledBreaker[]): FollowedParameter[] {
  if (breakers.length === 0) return [];
  const fields: Array<[ParameterName, keyof TunablePolicy]> = [
    ['breaker.error-percent', 'errorThresholdPercentage'], ['breaker.volume', 'volumeThreshold'], ['breaker.reset-ms', 'resetTimeoutMs'],
  ];
  const followed: FollowedParameter[] = fields.map(([name, field]) => ({
    name, startup: (breakers[0] as ControlledBreaker).policy[field], apply: (value) => { for (const b of breakers) b.tune({ [field]: value }); },
  }));
  for (const breaker of breakers) {
    const name = `timeout.${breaker.name.split('->')[1] ?? ''}`;
    if (findParameter(name)) followed.push({ name: name as ParameterName, startup: breaker.policy.timeoutMs, apply: (value) => breaker.tune({ timeoutMs: value }) });
  }
  return followed;
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
