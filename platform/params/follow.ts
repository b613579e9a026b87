// The running side of live parameters: a process follows the overrides of the parameters it
// applies (watching tps_control), gives each its value now and on every change (the override, or
// its own start-up value once the override is removed), logs who changed what, and reports the
// value in force as tps_config_parameter{name} (and whether it is an override), so a dashboard,
// `tps status` and a test see every process apply it.
import type { ControlStore } from '../control/store.ts';
import { controlKeys } from '../control/keys.ts';
import type { Logger } from '../logger.ts';
import type { Gauge } from 'prom-client';
import { gauge, metrics, type MetricDef, type MetricsRegistry } from '../metrics.ts';
import { findParameter, parameterValue, show, type ParameterName } from './catalogue.ts';

/** One gauge per registry, however many parts of a process follow parameters (a hop's breaker and its cache). */
function shared(registry: MetricsRegistry, def: MetricDef<'name'>): Gauge<'name'> {
  return (registry.getSingleMetric(def.name) as Gauge<'name'> | undefined) ?? gauge(registry, def);
}

export type FollowedParameter = { name: ParameterName; startup: number; apply: (value: number) => void };

export async function followParameters(control: ControlStore, followed: readonly FollowedParameter[], deps: { logger: Logger; registry?: MetricsRegistry }): Promise<() => void> {
  const inForce = deps.registry ? shared(deps.registry, metrics.configParameter) : undefined;
  const overridden = deps.registry ? shared(deps.registry, metrics.configParameterOverridden) : undefined;
  const stops: Array<() => void> = [];
  for (const p of followed) {
    const unit = findParameter(p.name) ?? { unit: 'count' as const };
    let current = p.startup;
    inForce?.set({ name: p.name }, current);
    overridden?.set({ name: p.name }, 0);
    stops.push(await control.watch(controlKeys.parameter(p.name), parameterValue, (value) => {
      const next = value?.value ?? p.startup;
      overridden?.set({ name: p.name }, value ? 1 : 0);
      if (next === current) return;
      p.apply(next);
      deps.logger.info({ parameter: p.name, from: current, to: next, by: value?.by ?? 'reset', reason: value?.reason },
        `parameter ${p.name}: ${show(unit, current)} -> ${show(unit, next)} (${value ? `set by ${value.by}` : 'reset to the start-up value'})`);
      current = next;
      inForce?.set({ name: p.name }, current);
    }, (text) => deps.logger.warn({ parameter: p.name, value: text }, `ignoring a malformed value of parameter ${p.name} in tps_control`)));
  }
  return () => { for (const stop of stops) stop(); };
}
