// TPS overview: the seven panels of handbook section 2.2 with its normal ranges, then the
// dead-letter queue, the autoscaler and the job stores. The dashboard to watch during every lab.
import { recorded as r } from '../promql.ts';
import { dashboard, row, stat, steps, timeseries } from './model.ts';
import {
  circuitPanel, dlqPanels, errorRatePanel, latencyPanel, queueDepthPanel, queueFillPanel, slotsPanel, storePanels, throughputPanel, utilizationPanel,
} from './panels.ts';
import { ranges } from './ranges.ts';

const resources = [
  timeseries({
    title: 'CPU per role',
    description: 'Panel 7: share of one CPU core each role uses. Normal 40-70 %; at 100 % the role is CPU-bound (a Node.js role computes on one core).',
    queries: [{ expr: r.cpu, legend: '{{job}}' }],
    unit: 'percentunit', min: 0, thresholds: ranges.cpu.band, bands: true, w: 6,
  }),
  timeseries({
    title: 'Memory per role',
    description: 'Panel 7: resident memory over the memory the role may use (its container limit, natively the machine\'s RAM). Normal 50-80 %; near 100 % it will be killed. Steadily growing: a leak.',
    queries: [{ expr: r.memory, legend: '{{job}}' }],
    unit: 'percentunit', min: 0, thresholds: ranges.memory.band, bands: true, w: 6,
  }),
];

const health = [
  circuitPanel(),
  stat({
    title: 'Roles answering',
    description: 'Scrape targets Prometheus reaches, per role. 0 (red): the role is down or hung and its panels go blank (alert TpsTargetDown).',
    queries: [{ expr: 'sum by (job) (up)', legend: '{{job}}' }],
    thresholds: steps('red', [1, 'green']), w: 8,
  }),
  stat({
    title: 'Chaos faults active',
    description: 'Deliberate faults now on (tps chaos). Not zero: what you see may be the fault\'s effect.',
    queries: [{ expr: 'sum(tps_chaos_fault_active) or vector(0)', legend: 'faults' }],
    thresholds: steps('green', [1, 'purple']), w: 4,
  }),
];

const autoscaler = [
  timeseries({
    title: 'Autoscaler: desired vs actual slots',
    description: 'Slots per worker process the autoscaler wants, against the slots the workers run with. They should meet within a few seconds.',
    queries: [
      { expr: 'max by (pool) (tps_autoscaler_desired_slots)', legend: '{{pool}} desired' },
      { expr: 'max by (pool) (tps_worker_slots)', legend: '{{pool}} actual' },
    ],
    min: 0, w: 10,
  }),
  timeseries({
    title: 'Autoscaler decisions',
    description: 'Scale up, down or hold, per 5 minutes. Scaling up again and again (handbook 4.5): load is rising or a bottleneck eats the new slots.',
    queries: [{ expr: 'sum by (pool, direction) (increase(tps_autoscaler_decisions_total[5m]))', legend: '{{pool}} {{direction}}' }],
    min: 0, w: 8,
  }),
  stat({
    title: 'Autoscaler state',
    description: 'Enabled: the autoscaler may change slots (disabled: manual control, tps autoscaler). Bottleneck: more slots stopped raising throughput, so it holds.',
    queries: [
      { expr: 'max(tps_autoscaler_enabled)', legend: 'enabled' },
      { expr: 'max by (pool) (tps_autoscaler_bottleneck)', legend: '{{pool}} bottleneck' },
    ],
    mappings: { 0: { text: 'no', color: 'text' }, 1: { text: 'yes', color: 'blue' } }, w: 6,
  }),
];

export const overview = dashboard({
  uid: 'tps-overview',
  title: 'TPS overview',
  description: 'The seven panels of the operations handbook (section 2.2) with its normal ranges, plus the dead-letter queue, the autoscaler and the job stores.',
  panels: [
    row('Andon: is the system healthy?'),
    ...health,
    queueDepthPanel(), queueFillPanel(), utilizationPanel(), slotsPanel(),
    errorRatePanel(), latencyPanel(),
    throughputPanel(), ...resources,
    row('Dead-letter queue and autoscaler'),
    ...dlqPanels(),
    ...autoscaler,
    row('Job status and idempotency stores'),
    ...storePanels(),
  ],
});
