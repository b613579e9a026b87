// The handbook's ranges as Grafana thresholds. `band` shades the normal range green on a graph;
// `status` colours a single value (stat, bar) by how far it is from normal.
import { circuitStates, handbook as h } from '../handbook.ts';
import { steps, type Mapping } from './model.ts';

const [qLow, qHigh] = h.queueFill.normal;
const [uLow, uHigh] = h.utilization.normal;
const [cLow, cHigh] = h.cpu.normal;
const [mLow, mHigh] = h.memory.normal;
const none = 'transparent';

export const ranges = {
  queueFill: {
    band: steps(none, [qLow, 'green'], [qHigh, none], [h.queueFill.nearFull, 'orange'], [h.queueFill.full, 'red']),
    status: steps('green', [h.queueFill.nearFull, 'orange'], [h.queueFill.full, 'red']),
  },
  utilization: {
    band: steps('blue', [h.utilization.idle, none], [uLow, 'green'], [uHigh, none], [h.utilization.saturated, 'red']),
    status: steps('blue', [h.utilization.idle, 'green'], [uHigh, 'orange'], [h.utilization.saturated, 'red']),
  },
  errorRatio: {
    band: steps('green', [h.errorRatio.normal, 'yellow'], [h.errorRatio.serious, 'orange'], [h.errorRatio.high, 'red']),
    status: steps('green', [h.errorRatio.normal, 'yellow'], [h.errorRatio.serious, 'orange'], [h.errorRatio.high, 'red']),
  },
  cpu: { band: steps(none, [cLow, 'green'], [cHigh, 'orange'], [h.cpu.full, 'red']) },
  memory: { band: steps(none, [mLow, 'green'], [mHigh, 'orange'], [h.memory.full, 'red']) },
  dlqFill: { status: steps('green', [h.dlqFill.nearFull, 'orange'], [1, 'red']) },
  storeFill: { status: steps('green', [h.storeFill.nearFull, 'orange'], [1, 'red']) },
  p99OverP50: { band: steps('green', [h.p99OverP50, 'red']) },
  circuit: steps('green', [circuitStates.halfOpen, 'yellow'], [circuitStates.open, 'red']),
} as const;

export const circuitLight: Mapping = {
  [circuitStates.closed]: { text: 'closed', color: 'green' },
  [circuitStates.halfOpen]: { text: 'half-open', color: 'yellow' },
  [circuitStates.open]: { text: 'OPEN', color: 'red' },
};
