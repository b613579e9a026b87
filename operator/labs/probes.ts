// The typed probes a lab's checks run against the live stack: a metric over every role's /metrics
// (every replica included), every role ready, an answer against the truth the setup chose. Each
// returns whether it holds, what it measured and, when it does not hold, why in words.
import { parseMetrics, type Sample } from '#operator/status/parse.ts';
import { everyAddress, type Target } from '#operator/status/replica-targets.ts';
import type { Probe } from './lab-schema.ts';
import type { LabRun } from './lab-state.ts';

export type ProbeResult = { holds: boolean; measured?: number | string; reason?: string };

export type ProbeContext = { targets: readonly Target[]; run: LabRun };

type MetricProbe = Extract<Probe, { kind: 'metric' }>;

async function scrapeAll(targets: readonly Target[]): Promise<Sample[]> {
  const all = await everyAddress(targets);
  const texts = await Promise.all(all.map(async (t) => {
    try {
      const res = await fetch(`${t.url}/metrics`, { signal: AbortSignal.timeout(2_000) });
      return res.ok ? await res.text() : '';
    } catch {
      return '';
    }
  }));
  return texts.flatMap(parseMetrics);
}

/** The probe's selector over these samples; undefined when no sample matches. */
export function selectorValue(probe: Pick<MetricProbe, 'metric' | 'labels' | 'aggregate'>, samples: readonly Sample[]): number | undefined {
  const values = samples
    .filter((s) => s.name === probe.metric && Object.entries(probe.labels).every(([k, v]) => s.labels[k] === v))
    .map((s) => s.value);
  if (values.length === 0) return undefined;
  if (probe.aggregate === 'max') return Math.max(...values);
  if (probe.aggregate === 'min') return Math.min(...values);
  return values.reduce((a, b) => a + b, 0);
}

export function baselineKey(probe: Pick<MetricProbe, 'metric' | 'labels' | 'aggregate'>): string {
  return `${probe.aggregate}(${probe.metric}${JSON.stringify(probe.labels)})`;
}

const compare = { '>': (a: number, b: number) => a > b, '>=': (a: number, b: number) => a >= b, '<': (a: number, b: number) => a < b, '<=': (a: number, b: number) => a <= b, '==': (a: number, b: number) => a === b };

function metricResult(probe: MetricProbe, samples: readonly Sample[], run: LabRun): ProbeResult {
  const now = selectorValue(probe, samples) ?? probe.absent;
  const label = `${probe.metric}${Object.keys(probe.labels).length ? JSON.stringify(probe.labels) : ''}`;
  if (now === undefined) return { holds: false, reason: `no role reports ${label} yet` };
  const measured = probe.measure === 'increase' ? now - (run.baselines[baselineKey(probe)] ?? 0) : now;
  const holds = compare[probe.op](measured, probe.value);
  const what = probe.measure === 'increase' ? `${label} rose by ${measured} since the lab started` : `${label} is ${measured}`;
  return holds ? { holds, measured } : { holds, measured, reason: `${what}; the check wants ${probe.op} ${probe.value}` };
}

async function readyResult(targets: readonly Target[]): Promise<ProbeResult> {
  if (targets.length === 0) return { holds: false, reason: 'no role of TPS Lab is running here (start it: make up, or docker-compose up)' };
  const answers = await Promise.all(targets.map(async (t) => {
    try { return (await fetch(`${t.url}/readyz`, { signal: AbortSignal.timeout(2_000) })).status === 200 ? undefined : t.role; } catch { return t.role; }
  }));
  const notReady = answers.filter((r): r is string => r !== undefined);
  return notReady.length === 0 ? { holds: true, measured: `${targets.length} roles ready` } : { holds: false, reason: `not ready: ${notReady.join(', ')}` };
}

function answerResult(probe: Extract<Probe, { kind: 'answer' }>, run: LabRun): ProbeResult {
  const given = run.answers[probe.key];
  if (given === undefined) return { holds: false, reason: `no answer yet: tps lab answer ${run.id} ${probe.key}=<value>` };
  return given === run.choices[probe.truth] ? { holds: true, measured: given } : { holds: false, measured: given, reason: `${probe.key}=${given} is not it` };
}

function readingResult(probe: Extract<Probe, { kind: 'reading' }>, samples: readonly Sample[], run: LabRun): ProbeResult {
  const given = run.answers[probe.key];
  if (given === undefined) return { holds: false, reason: `no answer yet: tps lab answer ${run.id} ${probe.key}=<value>` };
  const now = selectorValue(probe, samples);
  if (now === undefined) return { holds: false, reason: `no role reports ${probe.metric} to compare with` };
  const read = Number(given);
  const close = Number.isFinite(read) && Math.abs(read - now) <= Math.max(probe.tolerance * Math.abs(now), 0.5);
  return close ? { holds: true, measured: `${given} (now ${now})` } : { holds: false, measured: given, reason: `${probe.key}=${given}, but the panel shows ${now} now` };
}

/** Runs every probe; metric and reading probes share one scrape of the stack. */
export async function runProbes(probes: readonly Probe[], ctx: ProbeContext): Promise<ProbeResult[]> {
  const samples = probes.some((p) => p.kind === 'metric' || p.kind === 'reading') ? await scrapeAll(ctx.targets) : [];
  return Promise.all(probes.map((p) => {
    if (p.kind === 'metric') return metricResult(p, samples, ctx.run);
    if (p.kind === 'reading') return readingResult(p, samples, ctx.run);
    if (p.kind === 'ready') return readyResult(ctx.targets);
    return answerResult(p, ctx.run);
  }));
}

/** The value a `reading` question asks for, now (what `solve` answers). */
export async function currentReading(probe: Extract<Probe, { kind: 'reading' }>, targets: readonly Target[]): Promise<number | undefined> {
  return selectorValue(probe, await scrapeAll(targets));
}

/** Counter values at the start, for `increase` probes. */
export async function baselines(probes: readonly Probe[], targets: readonly Target[]): Promise<Record<string, number>> {
  const metricProbes = probes.filter((p): p is MetricProbe => p.kind === 'metric' && p.measure === 'increase');
  if (metricProbes.length === 0) return {};
  const samples = await scrapeAll(targets);
  return Object.fromEntries(metricProbes.map((p) => [baselineKey(p), selectorValue(p, samples) ?? 0]));
}
