// Circuit breakers (Jidoka: stop calling what is broken), wrapped once around opossum: a typed
// policy, a per-call AbortSignal that fires just before opossum's own timeout so a timed-out call
// really stops, client errors (4xx) not counted as failures, and our own metrics for state,
// transitions and calls. An operator can force a breaker open (`tps breaker open`).
import { trace } from '@opentelemetry/api';
import CircuitBreaker from 'opossum';
import { withDeadline } from './deadline.ts';
import { counter, gauge, knownLabels, labelSets, metrics, type Counter, type MetricsRegistry } from './metrics.ts';
import type { Logger } from './logger.ts';
import { isTimeout } from './errors.ts';

export type BreakerPolicy = {
  /** Longest a call may take; the call's AbortSignal fires `abortMarginMs` earlier. */
  readonly timeoutMs: number;
  readonly errorThresholdPercentage: number;
  /** How long the breaker stays open before letting one probe call through (half-open). */
  readonly resetTimeoutMs: number;
  /** Calls in the rolling window before the error percentage can open the breaker (>= 10). */
  readonly volumeThreshold: number;
  readonly rollingWindowMs: number;
  /** Bulkhead: concurrent calls allowed through this breaker. */
  readonly capacity: number;
};

export const breakerStates = { closed: 0, half_open: 1, open: 2 } as const;
/** On the span of the hop that called through a breaker: which one, and its state at that moment. */
export const spanAttributes = { circuit: 'tps.circuit', state: 'tps.circuit.state' } as const;
export type BreakerState = keyof typeof breakerStates;

const abortMarginMs = 10;

/** Thrown by the protected call for answers that say "your request was wrong", not "I am broken". */
export class ClientError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ClientError';
    this.status = status;
    this.code = code;
  }
}

export class BreakerOpenError extends Error {
  readonly circuit: string;
  constructor(circuit: string, why: 'open' | 'forced' | 'bulkhead') {
    super(why === 'bulkhead' ? `circuit ${circuit} is at its concurrency limit` : `circuit ${circuit} is open${why === 'forced' ? ' (forced by an operator)' : ''}`);
    this.name = 'BreakerOpenError';
    this.circuit = circuit;
  }
}

export class CallTimeoutError extends Error {
  constructor(circuit: string, ms: number) {
    super(`call through ${circuit} timed out after ${ms} ms`);
    this.name = 'CallTimeoutError';
  }
}

/** What a live parameter may change on a running breaker (`tps config set breaker.*`, `timeout.*`). */
export type TunablePolicy = Pick<BreakerPolicy, 'timeoutMs' | 'errorThresholdPercentage' | 'resetTimeoutMs' | 'volumeThreshold'>;

export type Breaker<A extends unknown[], R> = {
  readonly name: string;
  /** The policy in force now: the start-up one with any live change applied. */
  readonly policy: BreakerPolicy;
  /** Applies changed limits from the next call on; the state and the window's counts stay. */
  tune(patch: Partial<TunablePolicy>): void;
  /** Runs `call` through the breaker; `signal` aborts just before the breaker's timeout. */
  fire(...args: A): Promise<R>;
  state(): BreakerState;
  readonly forcedOpen: boolean;
  /** Operator override: open until released; `release` returns to automatic and closes it. */
  forceOpen(): void;
  release(): void;
  onStateChange(listener: (state: BreakerState) => void): void;
  /** The caller answered without the target after this breaker failed the call (a fallback):
   * counted as result="fallback", besides the failure that led to it. */
  countFallback(): void;
  shutdown(): void;
};

export type BreakerDeps = {
  registry: MetricsRegistry;
  logger: Logger;
  /** Which errors count toward opening the breaker (default: all but ClientError). */
  isFailure?: (err: unknown) => boolean;
};

export function createBreaker<A extends unknown[], R>(
  name: string,
  policy: BreakerPolicy,
  call: (signal: AbortSignal, ...args: A) => Promise<R>,
  deps: BreakerDeps,
): Breaker<A, R> {
  const listeners: Array<(state: BreakerState) => void> = [];
  const publish = stateReporter(name, deps, listeners);
  const calls = counter(deps.registry, metrics.circuitCalls, labelSets({ circuit: [name], result: knownLabels.circuitResult }));
  let forcedOpen = false;
  // One mutable copy: the call's AbortSignal and opossum's options read it at every call.
  const live: { -readonly [K in keyof BreakerPolicy]: BreakerPolicy[K] } = { ...policy };
  const cb = createOpossum(name, live, call, deps.isFailure ?? isNotClientError);

  const current = (): BreakerState => (forcedOpen || cb.opened ? 'open' : cb.halfOpen ? 'half_open' : 'closed');
  cb.on('open', () => publish('open'));
  cb.on('halfOpen', () => publish('half_open'));
  cb.on('close', () => publish('closed'));

  return {
    name,
    get policy() { return live; },
    tune(patch) {
      Object.assign(live, patch);
      Object.assign(opossumOptions(cb), { timeout: live.timeoutMs, errorThresholdPercentage: live.errorThresholdPercentage, resetTimeout: live.resetTimeoutMs });
      setVolumeThreshold(cb, Math.max(10, live.volumeThreshold));
    },
    async fire(...args: A): Promise<R> {
      // The state this call met, on the caller's span: a job's page shows it for every attempt.
      trace.getActiveSpan()?.setAttributes({ [spanAttributes.circuit]: name, [spanAttributes.state]: current() });
      if (forcedOpen) {
        calls.inc({ circuit: name, result: 'rejected' });
        throw new BreakerOpenError(name, 'forced');
      }
      try {
        const result = (await cb.fire(...args)) as R;
        calls.inc({ circuit: name, result: 'success' });
        return result;
      } catch (err) {
        throw countFailedCall(calls, name, live, err);
      }
    },
    state: current,
    get forcedOpen() { return forcedOpen; },
    forceOpen() {
      if (forcedOpen) return;
      forcedOpen = true;
      publish('open');
    },
    release() {
      const wasForced = forcedOpen;
      forcedOpen = false;
      if (cb.opened || cb.halfOpen) cb.close();
      else if (wasForced) publish('closed');
    },
    onStateChange(listener) { listeners.push(listener); },
    countFallback() { calls.inc({ circuit: name, result: 'fallback' }); },
    shutdown() { cb.shutdown(); },
  };
}

/** Publishes a state the breaker entered: its gauge, a transition, a log line, then the listeners. */
function stateReporter(name: string, deps: BreakerDeps, listeners: ReadonlyArray<(state: BreakerState) => void>): (state: BreakerState) => void {
  const stateGauge = gauge(deps.registry, metrics.circuitState);
  // From the start at 0: an open shorter than a scrape still shows as an increase from 0.
  const transitions = counter(deps.registry, metrics.circuitTransitions, labelSets({ circuit: [name], to: knownLabels.circuitTo }));
  stateGauge.set({ circuit: name }, 0);
  return (state) => {
    stateGauge.set({ circuit: name }, breakerStates[state]);
    transitions.inc({ circuit: name, to: state });
    deps.logger.warn({ circuit: name, state }, `circuit ${name} is ${state.replace('_', '-')}`);
    for (const l of listeners) l(state);
  };
}

/** The default failure: anything but a ClientError, since a 4xx says the request was bad, not that the service is broken. */
function isNotClientError(err: unknown): boolean {
  return !(err instanceof ClientError);
}

/**
 * opossum reads timeout, resetTimeout and errorThresholdPercentage from its `options` at every call
 * (its types do not declare the field), but keeps the volume threshold under a private symbol with
 * only a getter: set it there. tests/live-parameters.test.ts fails should an upgrade move either.
 */
const opossumOptions = (cb: CircuitBreaker): { timeout: number; errorThresholdPercentage: number; resetTimeout: number } =>
  (cb as unknown as { options: { timeout: number; errorThresholdPercentage: number; resetTimeout: number } }).options;

function setVolumeThreshold(cb: CircuitBreaker, volume: number): void {
  const key = Object.getOwnPropertySymbols(cb).find((s) => s.description === 'volume-threshold');
  if (!key) throw new Error('opossum keeps no volume-threshold symbol: this version cannot change a breaker\'s volume live');
  (cb as unknown as Record<symbol, number>)[key] = volume;
}

/** The opossum breaker around `call`, which gets a signal that aborts just before opossum's timeout. */
function createOpossum<A extends unknown[], R>(
  name: string,
  policy: BreakerPolicy,
  call: (signal: AbortSignal, ...args: A) => Promise<R>,
  isFailure: (err: unknown) => boolean,
): CircuitBreaker<A, R> {
  return new CircuitBreaker((...args: A) => withDeadline(Math.max(1, policy.timeoutMs - abortMarginMs), (signal) => call(signal, ...args)), {
    name,
    timeout: policy.timeoutMs,
    errorThresholdPercentage: policy.errorThresholdPercentage,
    resetTimeout: policy.resetTimeoutMs,
    volumeThreshold: Math.max(10, policy.volumeThreshold),
    rollingCountTimeout: policy.rollingWindowMs,
    capacity: policy.capacity,
    // opossum counts an error this returns true for as a success.
    errorFilter: (err: unknown) => !isFailure(err),
  });
}

/** Counts a call that threw; returns what the caller gets: opossum's refusals and timeouts as our errors. */
function countFailedCall(calls: Counter<'circuit' | 'result'>, name: string, policy: BreakerPolicy, err: unknown): unknown {
  const code = (err as { code?: string }).code;
  if (code === 'EOPENBREAKER' || code === 'ESEMLOCKED') {
    calls.inc({ circuit: name, result: 'rejected' });
    return new BreakerOpenError(name, code === 'ESEMLOCKED' ? 'bulkhead' : 'open');
  }
  const timedOut = isTimeout(err);
  // A 4xx went through a healthy service: a success for the breaker, an error for the caller.
  calls.inc({ circuit: name, result: err instanceof ClientError ? 'success' : timedOut ? 'timeout' : 'failure' });
  return timedOut ? new CallTimeoutError(name, policy.timeoutMs) : err;
}
