// The probes that read metrics: a selector (metric{labels}, summed or max/min over every role and
// replica) from the roles' own /metrics, as a value now, an increase since the lab started (from
// the baselines taken at start), or a rate per second (two scrapes, two seconds apart); readings
// the learner took from a panel; one counter's increase over another's.
import { scrapeAll, type Target } from '#operator/status/collect.ts';
import type { Sample } from '#operator/status/parse.ts';
import type { Probe, SingleProbe } from './lab-schema.ts';
import type { LabRun } from './lab-state.ts';
import { compare, type ProbeResult, answerCommand } from './probe-result.ts';

type MetricProbe = Extract<Probe, { kind: 'metric' }>;
type Selector = Pick<MetricProbe, 'metric' | 'labels' | 'aggregate'> & { role?: string | undefined };

/** Every role's samples now, and (when a probe wants a rate) two seconds earlier. */
export type Scrape = { now: Sample[]; earlier?: { samples: Sample[]; seconds: number } };

/** Every role's samples (every replica), in one list; each knows its role (`tps_role`). */
const allSamples = async (targets: readonly Target[]): Promise<Sample[]> =>
  (await scrapeAll(targets)).flatMap((s) => s.samples.map((x) => ({ ...x, labels: { ...x.labels, [roleLabel]: s.target.role } })));

/** The label a probe's `role` selects on (no metric of ours has it). */
const roleLabel = 'tps_role';

const readsMetrics = (p: SingleProbe) => p.kind === 'metric' || p.kind === 'reading' || p.kind === 'ratio';
const wantsRate = (p: SingleProbe) => p.kind === 'metric' && p.measure === 'rate';

/** One scrape shared by every probe that reads metrics (none when no probe does). */
export async function scrapeFor(probes: readonly SingleProbe[], targets: readonly Target[]): Promise<Scrape> {
  if (!probes.some(readsMetrics)) return { now: [] };
  if (!probes.some(wantsRate)) return { now: await allSamples(targets) };
  const first = await allSamples(targets);
  const from = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const now = await allSamples(targets);
  return { now, earlier: { samples: first, seconds: (performance.now() - from) / 1000 } };
}

/** The probe's selector over these samples; undefined when no sample matches. */
export function selectorValue(probe: Selector, samples: readonly Sample[]): number | undefined {
  const values = samples
    .filter((s) => s.name === probe.metric && Object.entries(probe.labels).every(([k, v]) => s.labels[k] === v))
    .filter((s) => probe.role === undefined || s.labels[roleLabel] === probe.role)
    .map((s) => s.value);
  if (values.length === 0) return undefined;
  if (probe.aggregate === 'max') return Math.max(...values);
  if (probe.aggregate === 'min') return Math.min(...values);
  return values.reduce((a, b) => a + b, 0);
}

export function baselineKey(probe: Selector): string {
  return `${probe.aggregate}(${probe.metric}${JSON.stringify(probe.labels)})${probe.role ? ` of ${probe.role}` : ''}`;
}

const show = (s: Selector) => `${s.metric}${Object.keys(s.labels).length ? JSON.stringify(s.labels) : ''}${s.role ? ` of ${s.role}` : ''}`;
const round = (x: number) => Math.round(x * 100) / 100;

function measured(probe: MetricProbe, now: number, scrape: Scrape, run: LabRun): { value: number; what: string } {
  if (probe.measure === 'increase') {
    const value = now - (run.baselines[baselineKey(probe)] ?? 0);
    return { value, what: `${show(probe)} rose by ${value} since the lab started` };
  }
  if (probe.measure === 'rate' && scrape.earlier) {
    const value = round((now - (selectorValue(probe, scrape.earlier.samples) ?? now)) / scrape.earlier.seconds);
    return { value, what: `${show(probe)} rises by ${value}/s now` };
  }
  return { value: now, what: `${show(probe)} is ${now}` };
}

export function metricResult(probe: MetricProbe, scrape: Scrape, run: LabRun): ProbeResult {
  const now = selectorValue(probe, scrape.now) ?? probe.absent;
  if (now === undefined) return { holds: false, reason: `no role reports ${show(probe)} yet` };
  const { value, what } = measured(probe, now, scrape, run);
  const holds = compare[probe.op](value, probe.value);
  return holds ? { holds, measured: value } : { holds, measured: value, reason: `${what}; the check wants ${probe.op} ${probe.value}` };
}

export function readingResult(probe: Extract<Probe, { kind: 'reading' }>, samples: readonly Sample[], run: LabRun): ProbeResult {
  const given = run.answers[probe.key];
  if (given === undefined) return { holds: false, reason: `no answer yet: ${answerCommand(run.id)} ${probe.key}=<value>` };
  const now = selectorValue(probe, samples);
  if (now === undefined) return { holds: false, reason: `no role reports ${probe.metric} to compare with` };
  const read = Number(given);
  const close = Number.isFinite(read) && Math.abs(read - now) <= Math.max(probe.tolerance * Math.abs(now), 0.5);
  return close ? { holds: true, measured: `${given} (now ${now})` } : { holds: false, measured: given, reason: `${probe.key}=${given}, but the panel shows ${now} now` };
}

export function ratioResult(probe: Extract<Probe, { kind: 'ratio' }>, samples: readonly Sample[], run: LabRun): ProbeResult {
  const rise = (s: Selector) => (selectorValue(s, samples) ?? 0) - (run.baselines[baselineKey(s)] ?? 0);
  const [of, to] = [rise(probe.of), rise(probe.to)];
  if (to < probe.atLeast) return { holds: false, measured: `${of}/${to}`, reason: `${show(probe.to)} rose by ${to} since the lab started; the check needs ${probe.atLeast} at least` };
  const ratio = Math.round((of / to) * 1000) / 1000;
  const holds = compare[probe.op](ratio, probe.value);
  return holds ? { holds, measured: `${ratio} (${of}/${to})` } : { holds, measured: ratio, reason: `${show(probe.of)} / ${show(probe.to)} since the lab started is ${ratio} (${of}/${to}); the check wants ${probe.op} ${probe.value}` };
}

/** The value a `reading` question asks for, now (what `solve` answers). */
export async function currentReading(probe: Extract<Probe, { kind: 'reading' }>, targets: readonly Target[]): Promise<number | undefined> {
  return selectorValue(probe, await allSamples(targets));
}

/** Counter values at the start, for `increase` and `ratio` probes. */
export async function baselines(probes: readonly SingleProbe[], targets: readonly Target[]): Promise<Record<string, number>> {
  const selectors = probes.flatMap((p): Selector[] => {
    if (p.kind === 'metric' && p.measure === 'increase') return [p];
    return p.kind === 'ratio' ? [p.of, p.to] : [];
  });
  if (selectors.length === 0) return {};
  const samples = await allSamples(targets);
  return Object.fromEntries(selectors.map((s) => [baselineKey(s), selectorValue(s, samples) ?? 0]));
}
