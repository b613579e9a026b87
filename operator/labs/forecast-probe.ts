// Lab 3.5's checks: the learner's figures against the grader's own capacity plan, fitted to the
// same history in Prometheus at the time of the check. One plan per check run (the probes of a
// `tps lab check` share it), at the lab's default prices (those of `tps capacity`).
import { answerCommand } from './probe-result.ts';
import { forecast, type Plan } from '#operator/capacity/forecast.ts';
import { observeHistory } from '#operator/capacity/observe.ts';
import { parseFigure, planQuantities } from '#operator/capacity/quantities.ts';
import type { Probe, SingleProbe } from './lab-schema.ts';
import type { LabRun } from './lab-state.ts';
import type { ProbeResult } from './probe-result.ts';

export const gradingPrices = { coreMonth: 25, gibMonth: 3.5, currency: '$' } as const;
const planCache = new Map<string, { at: number; plan: Promise<Plan> }>();

/** The grader's plan; the same for every probe of one check (kept 20 s). */
export function gradersPlan(prometheusUrl: string, now = Date.now()): Promise<Plan> {
  const kept = planCache.get(prometheusUrl);
  if (kept && now - kept.at < 20_000) return kept.plan;
  const plan = observeHistory({ prometheusUrl }).then((h) => forecast(h, { prices: gradingPrices }));
  planCache.set(prometheusUrl, { at: now, plan });
  plan.catch(() => planCache.delete(prometheusUrl));
  return plan;
}

/** `key=figure` for every forecast probe, the figures rounded as `tps capacity` prints them. */
export function planFigures(plan: Plan, probes: readonly SingleProbe[]): string[] {
  return probes.flatMap((p) => (p.kind === 'forecast' ? [`${p.key}=${shown(planQuantities[p.quantity](plan) ?? NaN)}`] : []));
}

const shown = (v: number) => (Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : String(Math.round(v * 10) / 10));

export async function forecastResult(probe: Extract<Probe, { kind: 'forecast' }>, run: LabRun, prometheusUrl: string | undefined): Promise<ProbeResult> {
  const given = run.answers[probe.key];
  if (given === undefined) return { holds: false, reason: `no answer yet: ${answerCommand(run.id)} ${probe.key}=<number> (tps capacity prints it)` };
  const figure = parseFigure(given);
  if (figure === undefined) return { holds: false, measured: given, reason: `${probe.key}=${given} is not a number` };
  if (!prometheusUrl) return { holds: false, measured: given, reason: 'no Prometheus is configured here (TPS_PROMETHEUS_URL) to grade the plan against' };
  const truth = planQuantities[probe.quantity](await gradersPlan(prometheusUrl));
  if (truth === undefined) return { holds: false, measured: given, reason: `the grader's plan has no ${probe.quantity}` };
  const [low, high] = [truth * (1 - probe.tolerance), truth * (1 + (probe.conservative ? 3 : 1) * probe.tolerance)];
  const [lo, hi] = [Math.min(low, high), Math.max(low, high)];
  if (figure >= lo && figure <= hi) return { holds: true, measured: `${given} (the grader's plan: ${shown(truth)})` };
  const why = probe.conservative && figure < lo ? 'too few: a conservative plan does not run out' : `more than ${Math.round(probe.tolerance * 100)} % off`;
  return { holds: false, measured: given, reason: `${probe.key}=${given}: ${why} (the grader's plan, fitted to the same history: ${shown(truth)})` };
}
