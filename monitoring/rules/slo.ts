// Service level objectives as data, with their error-ratio and burn-rate recording rules and the
// multiwindow burn-rate alerts (Google SRE workbook, chapter 5): the usual 30-day set, plus a lab
// pair whose windows are short enough to fire within a 45-minute lab.
import { poolDefinitions, poolNames } from '#platform/pools.ts';
import type { Severity } from '../handbook.ts';
import { rate, ratioOfEvents, recorded as r } from '../promql.ts';
import { runbook, type AlertRule, type RecordingRule, type RuleGroup } from './types.ts';

/** Jobs must finish end to end within this many seconds (bucket bounds of tps_job_end_to_end_seconds);
 * each pool's target is in its entry of platform/pools.ts. */
export const latencyTargets = Object.fromEntries(poolNames.map((p) => [p, poolDefinitions[p].latencySloSeconds])) as Record<(typeof poolNames)[number], number>;

/** "250 ms (fast pool) / 5 s (slow pool)". */
export const latencyTargetsText = poolNames.map((p) => `${seconds(latencyTargets[p])} (${p} pool)`).join(' / ');

function seconds(s: number): string {
  return s < 1 ? `${s * 1000} ms` : `${s} s`;
}

/**
 * A bucket's `le` label: Prometheus 3 stores whole numbers as "5.0" where Prometheus 2 stored
 * "5", so the matcher accepts both.
 */
export function leMatcher(bound: number): string {
  const text = String(bound).replace('.', '\\\\.');
  return `le=~"${text}${Number.isInteger(bound) ? '(\\\\.0)?' : ''}"`;
}

const finished = 'tps_jobs_processed_total{outcome=~"success|dead_lettered"}';
const inTime = (w: string) => Object.entries(latencyTargets)
  .map(([pool, bound]) => rate(`tps_job_end_to_end_seconds_bucket{pool="${pool}", ${leMatcher(bound)}}`, w))
  .join(' or ');

export const slos = [
  {
    slo: 'availability',
    objective: 0.999,
    meaning: '99.9 % of the jobs that finish complete (are not dead-lettered)',
    errorRatio: (w: string) => ratioOfEvents(rate('tps_jobs_processed_total{outcome="dead_lettered"}', w), rate(finished, w)),
  },
  {
    slo: 'latency',
    objective: 0.99,
    meaning: `99 % of jobs finish end to end within ${latencyTargetsText}`,
    errorRatio: (w: string) => `1 - (${inTime(w)}) / ${rate('tps_job_end_to_end_seconds_count', w)}`,
  },
] as const;

/** Every window a burn-rate alert or the SLO dashboard reads. */
export const sloWindows = ['1m', '5m', '10m', '30m', '1h', '2h', '6h', '1d', '3d', '30d'] as const;
type Window = (typeof sloWindows)[number];

type BurnAlert = { alert: string; long: Window; short: Window; factor: number; severity: Severity; for?: string; period: 'lab' | '30d' };

/** A factor of 14.4 spends 2 % of a 30-day budget in one hour; 6 spends 5 % in six hours. */
export const burnAlerts: readonly BurnAlert[] = [
  { alert: 'TpsSloBurnRateLab', long: '10m', short: '1m', factor: 14.4, severity: 'high', for: '1m', period: 'lab' },
  { alert: 'TpsSloBurnRateLabSlow', long: '30m', short: '5m', factor: 6, severity: 'medium', period: 'lab' },
  { alert: 'TpsSloBurnRateCritical', long: '1h', short: '5m', factor: 14.4, severity: 'critical', period: '30d' },
  { alert: 'TpsSloBurnRateHigh', long: '6h', short: '30m', factor: 6, severity: 'high', period: '30d' },
  { alert: 'TpsSloBurnRateMedium', long: '1d', short: '2h', factor: 3, severity: 'medium', period: '30d' },
  { alert: 'TpsSloBurnRateLow', long: '3d', short: '6h', factor: 1, severity: 'low', period: '30d' },
];

function recordingRules(): RecordingRule[] {
  const objectives = slos.map(({ slo, objective }) => ({ record: r.sloObjective, expr: `vector(${objective})`, labels: { slo } }));
  const errors = sloWindows.flatMap((w) => slos.map(({ slo, errorRatio }) => ({ record: r.sloErrors(w), expr: errorRatio(w), labels: { slo } })));
  // Burn rate: how many times faster than "exactly the budget over the period" errors arrive.
  const burns = sloWindows.map((w) => ({ record: r.sloBurn(w), expr: `${r.sloErrors(w)} / on (slo) group_left () (1 - ${r.sloObjective})` }));
  return [...objectives, ...errors, ...burns];
}

function alertRule(b: BurnAlert): AlertRule {
  return {
    alert: b.alert,
    expr: `${r.sloBurn(b.long)} > ${b.factor} and ${r.sloBurn(b.short)} > ${b.factor}`,
    ...(b.for ? { for: b.for } : {}),
    labels: { severity: b.severity, slo_period: b.period },
    annotations: {
      summary: `{{ $labels.pool }} pool {{ $labels.slo }} SLO: error budget burning ${b.factor}x too fast (${b.long} and ${b.short})`,
      description: `Over the last ${b.long} and the last ${b.short}, errors arrived more than ${b.factor}x as fast as the ` +
        `${b.period === 'lab' ? 'budget allows (lab-length windows of the 30-day budget)' : '30-day error budget allows'}. Burn rate now: {{ $value | humanize }}.`,
      runbook: runbook('slos-and-burn-rate-alerts'),
    },
  };
}

/** One group: its rules run in order, so an alert reads the burn rates of the same evaluation. */
export const sloGroups: RuleGroup[] = [{ name: 'tps-slo', rules: [...recordingRules(), ...burnAlerts.map(alertRule)] }];
