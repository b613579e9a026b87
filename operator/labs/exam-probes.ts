// The probes of a practical exam: the abnormal metrics the candidate names against the staged
// incident's list, the autoscaler given back (enabled, no pool capped), and a written answer long
// enough for a person to grade.
import { answerCommand } from './probe-result.ts';
import type { ControlOperations } from '#platform/control/operations.ts';
import { abnormalMetrics, incidents, type Incident } from '#operator/exam/weekend-history.ts';
import type { Probe } from './lab-schema.ts';
import type { LabRun } from './lab-state.ts';
import type { ProbeResult } from './probe-result.ts';

/** A metric's family name: `tps_jobs_processed_total` and `tps_jobs_processed` are one metric. */
const family = (name: string) => name.trim().toLowerCase().replace(/\{.*$/, '').replace(/_(total|bucket|sum|count)$/, '');

export function abnormalResult(probe: Extract<Probe, { kind: 'abnormal' }>, run: LabRun): ProbeResult {
  const given = run.answers[probe.key];
  if (given === undefined) return { holds: false, reason: `no answer yet: ${answerCommand(run.id)} ${probe.key}=<metric>,<metric>,...` };
  const incident = run.choices[probe.incident];
  if (!incidents.includes(incident as Incident)) return { holds: false, reason: `the setup chose no known incident (${incident ?? 'none'})` };
  const truth = new Set(abnormalMetrics[incident as Incident].map(family));
  const named = [...new Set(given.split(',').map(family).filter(Boolean))];
  const right = named.filter((n) => truth.has(n));
  const wrong = named.filter((n) => !truth.has(n));
  const measured = `${right.length} right${wrong.length ? `, not abnormal: ${wrong.join(', ')}` : ''}`;
  const holds = right.length >= probe.atLeast && wrong.length <= right.length;
  return holds ? { holds, measured } : { holds, measured, reason: `${measured}; the check wants ${probe.atLeast} abnormal metrics at least, and no more wrong than right` };
}

export async function autoscalerFreeResult(control: ControlOperations | undefined): Promise<ProbeResult> {
  if (!control) return { holds: false, reason: 'the autoscaler\'s state needs NATS, which this command could not reach' };
  const view = await control.autoscaler();
  const caps = Object.entries(view.caps).map(([pool, max]) => `${pool} capped at ${max}`);
  const problems = [...(view.enabled ? [] : ['the autoscaler is disabled']), ...caps];
  return problems.length === 0 ? { holds: true, measured: 'enabled, no cap' } : { holds: false, reason: `${problems.join('; ')} (tps autoscaler status)` };
}

export function textResult(probe: Extract<Probe, { kind: 'text' }>, run: LabRun): ProbeResult {
  const given = run.answers[probe.key];
  if (given === undefined) return { holds: false, reason: `nothing written yet: ${answerCommand(run.id)} ${probe.key}="..."` };
  const words = given.split(/\s+/).filter(Boolean).length;
  return words >= probe.minWords ? { holds: true, measured: `${words} words` } : { holds: false, measured: `${words} words`, reason: `${words} words; write ${probe.minWords} at least` };
}
