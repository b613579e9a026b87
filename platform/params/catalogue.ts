// Live parameters: the tunables an operator changes while the system runs (`tps config set`), the
// levers of lab 3.2. Each starts from its environment variable (read at a role's start) and can be
// overridden in the `tps_control` bucket (`param.<name>`), which the running roles watch and apply
// within a second; `tps config reset` removes the override, and the roles go back to their own
// start-up value. This table is the one home of the names, bounds, units and who applies what.
import { z } from 'zod';
import { parseDuration } from '../config-types.ts';

export type ParameterUnit = 'percent' | 'ms' | 'count' | 'switch';

export type ParameterDef = {
  readonly name: string;
  /** The variable a role reads at start: the value while no override is set. */
  readonly env: string;
  readonly unit: ParameterUnit;
  readonly min: number;
  readonly max: number;
  /** Which roles apply it, and to what. */
  readonly appliesTo: string;
  readonly description: string;
};

const def = (name: string, env: string, unit: ParameterUnit, min: number, max: number, appliesTo: string, description: string): ParameterDef =>
  ({ name, env, unit, min, max, appliesTo, description });

const breakerHolders = 'every breaker (workers, service-a, service-b)';

export const parameterCatalogue = [
  def('breaker.error-percent', 'BREAKER_ERROR_PERCENT', 'percent', 1, 100, breakerHolders, 'the failure share of the calls in the window at which a breaker opens'),
  def('breaker.volume', 'BREAKER_VOLUME', 'count', 10, 100_000, breakerHolders, 'the calls in the window before a breaker may open at all'),
  def('breaker.reset-ms', 'BREAKER_RESET_MS', 'ms', 100, 600_000, breakerHolders, 'how long an open breaker waits before letting one trial call through (half-open)'),
  def('timeout.service-b', 'TIMEOUT_SERVICE_B_MS', 'ms', 100, 600_000, 'service-a (its breaker and calls to service-b)', 'how long service-a waits for service-b'),
  def('timeout.service-c', 'TIMEOUT_SERVICE_C_MS', 'ms', 100, 600_000, 'service-b (its breaker and calls to service-c)', 'how long service-b waits for service-c'),
  def('cache.service-b', 'CACHE_SERVICE_B_MS', 'ms', 0, 3_600_000, 'service-a (its calls to service-b)', 'how long service-a keeps service-b\'s answer to a job type and answers from it (0: no cache)'),
  def('cache.service-c', 'CACHE_SERVICE_C_MS', 'ms', 0, 3_600_000, 'service-b (its calls to service-c)', 'how long service-b keeps service-c\'s answer to a job type and answers from it (0: no cache)'),
  def('fallback.service-b', 'FALLBACK_SERVICE_B', 'switch', 0, 1, 'service-a (its calls to service-b)', 'whether service-a answers without service-b while it fails: its last answer, else a degraded one'),
  def('fallback.service-c', 'FALLBACK_SERVICE_C', 'switch', 0, 1, 'service-b (its calls to service-c)', 'whether service-b answers without service-c while it fails: its last answer, else a degraded one'),
  def('autoscaler.up-utilization', 'AUTOSCALER_UP_UTILIZATION', 'percent', 1, 100, 'autoscaler', 'the worker utilisation at or above which the autoscaler adds slots'),
  def('autoscaler.down-utilization', 'AUTOSCALER_DOWN_UTILIZATION', 'percent', 0, 99, 'autoscaler', 'the worker utilisation at or below which the autoscaler removes slots'),
  def('autoscaler.up-after-ms', 'AUTOSCALER_UP_AFTER_MS', 'ms', 100, 3_600_000, 'autoscaler', 'how long pressure must last before scaling up'),
  def('autoscaler.down-after-ms', 'AUTOSCALER_DOWN_AFTER_MS', 'ms', 100, 3_600_000, 'autoscaler', 'how long the pool must be idle before scaling down'),
  def('autoscaler.cooldown-ms', 'AUTOSCALER_COOLDOWN_MS', 'ms', 100, 3_600_000, 'autoscaler', 'the least time between two changes of a pool\'s slots'),
] as const satisfies readonly ParameterDef[];

export type ParameterName = (typeof parameterCatalogue)[number]['name'];
export const parameterNames = parameterCatalogue.map((p) => p.name) as readonly ParameterName[];

export function findParameter(name: string): ParameterDef | undefined {
  return parameterCatalogue.find((p) => p.name === name);
}

/** An operator's text ("60", "5s", "1500ms") as the parameter's value, or why it is not one. */
const switches: Record<string, number> = { on: 1, off: 0, true: 1, false: 0, '1': 1, '0': 0 };

export function parseParameterValue(p: ParameterDef, text: string): { value: number } | { error: string } {
  const value = p.unit === 'switch' ? switches[text.toLowerCase()] : p.unit === 'ms' ? parseDuration(text) : /^\d+$/.test(text) ? Number(text) : undefined;
  if (value === undefined || !Number.isFinite(value)) {
    const wanted = { switch: 'on or off', ms: 'a duration such as 500, 500ms, 2s', percent: 'a whole number', count: 'a whole number' }[p.unit];
    return { error: `${p.name} takes ${wanted}; got "${text}"` };
  }
  if (value < p.min || value > p.max) return { error: `${p.name} must be between ${show(p, p.min)} and ${show(p, p.max)}; got ${show(p, value)}` };
  return { value };
}

export function show(p: Pick<ParameterDef, 'unit'>, value: number): string {
  if (p.unit === 'switch') return value ? 'on' : 'off';
  return p.unit === 'percent' ? `${value} %` : p.unit === 'ms' ? `${value} ms` : String(value);
}

/** The override kept in tps_control: the value, who set it, when and why. */
export const parameterValue = z.object({ value: z.number(), by: z.string().min(1), at: z.iso.datetime(), reason: z.string().optional() });
export type ParameterValue = z.infer<typeof parameterValue>;
