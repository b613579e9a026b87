// SLOs: each objective's indicator over 30 days, the error budget left, and burn rates over the
// lab windows and the 30-day windows that the burn-rate alerts watch.
import { recorded as r } from '../promql.ts';
import { burnAlerts, latencyTargetsText, slos } from '../rules/slo.ts';
import { bars, dashboard, row, stat, steps, timeseries } from './model.ts';

const burnSteps = (period: 'lab' | '30d') => {
  const factors = [...new Set(burnAlerts.filter((b) => b.period === period).map((b) => b.factor))].sort((a, b) => a - b);
  return steps('green', ...factors.map((f, i): [number, string] => [f, i === factors.length - 1 ? 'red' : 'orange']));
};

function indicator(slo: (typeof slos)[number]) {
  return stat({
    title: `${slo.slo} SLI (30 days)`,
    description: `Objective: ${slo.meaning}. Green while at or above ${slo.objective * 100} %.`,
    queries: [{ expr: `1 - ${r.sloErrors('30d')}{slo="${slo.slo}"}`, legend: '{{pool}}' }],
    unit: 'percentunit', thresholds: steps('red', [slo.objective, 'green']), w: 6, h: 8,
  });
}

function budget(slo: (typeof slos)[number]) {
  return bars({
    title: `${slo.slo}: error budget left (30 days)`,
    description: `The share of the 30-day error budget (${+((1 - slo.objective) * 100).toFixed(2)} % of jobs) not yet spent. Below 0: the SLO is broken.`,
    queries: [{ expr: `1 - ${r.sloBurn('30d')}{slo="${slo.slo}"}`, legend: '{{pool}}' }],
    unit: 'percentunit', min: 0, max: 1, thresholds: steps('red', [0.25, 'orange'], [0.5, 'green']), w: 6,
  });
}

function burn(period: 'lab' | '30d') {
  const windows = [...new Set(burnAlerts.filter((b) => b.period === period).flatMap((b) => [b.short, b.long]))];
  return timeseries({
    title: period === 'lab' ? 'Burn rate, lab windows' : 'Burn rate, 30-day windows',
    description: period === 'lab'
      ? 'How many times faster than the budget allows errors arrive, over windows short enough for a 45-minute lab. Alerts: 14.4 over 10m and 1m (TpsSloBurnRateLab), 6 over 30m and 5m.'
      : 'The classic multiwindow set: 14.4 over 1h and 5m pages, 6 over 6h and 30m, 3 over 1d and 2h, 1 over 3d and 6h.',
    queries: windows.map((w) => ({ expr: r.sloBurn(w), legend: `{{pool}} {{slo}} ${w}` })),
    min: 0, thresholds: burnSteps(period), bands: true,
  });
}

const endToEnd = timeseries({
  title: 'End-to-end latency p99 vs target',
  description: `From the ingress accepting a job to its terminal state. Targets: ${latencyTargetsText} (99 % of jobs).`,
  queries: [{ expr: 'histogram_quantile(0.99, sum by (pool, le) (rate(tps_job_end_to_end_seconds_bucket[5m])))', legend: '{{pool}} p99', exemplar: true }],
  unit: 's', min: 0, w: 24,
});

export const sloDashboard = dashboard({
  uid: 'tps-slo',
  title: 'TPS SLOs',
  description: 'Service level objectives (Kaizen: improve by measuring): indicators, error budget, burn rates.',
  panels: [
    ...slos.flatMap((s) => [indicator(s), budget(s)]),
    row('Burn rates'),
    burn('lab'), burn('30d'),
    endToEnd,
  ],
});
