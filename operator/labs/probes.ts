// The typed probes a lab's checks run against the live stack: metrics over every role's /metrics
// (metric-probes.ts), audit events on NATS (event-probe.ts), every role ready, an answer against
// the truth, another check that held before, several at once. Each returns whether it holds, what
// it measured and, when it does not hold, why in words.
import { answerCommand } from './probe-result.ts';
import type { Target } from '#operator/status/replica-targets.ts';
import type { ControlOperations } from '#platform/control/operations.ts';
import { abnormalResult, autoscalerFreeResult, textResult } from './exam-probes.ts';
import type { Probe, SingleProbe } from './lab-schema.ts';
import type { AnyProbe } from './probe-schema.ts';
import { eventResult, type EventReader } from './event-probe.ts';
import type { LabRun } from './lab-state.ts';
import { metricResult, ratioResult, readingResult, scrapeFor, type Scrape } from './metric-probes.ts';
import { prometheusReady, promqlResult } from './promql-probe.ts';
import { prometheusResult, restartedResult } from './recovery-probes.ts';
import { alertRulesResult, dashboardResult } from './dashboard-probe.ts';
import { forecastResult } from './forecast-probe.ts';
import { tunedResult, type TuningSources } from './tuning-probe.ts';
import type { ProbeResult } from './probe-result.ts';

export type { ProbeResult } from './probe-result.ts';
export { baselines, currentReading } from './metric-probes.ts';

/** Where probes look: the roles' /metrics, the EVENTS stream when NATS is at hand, Prometheus, and
 * the state folder (files the learner saves for a lab). */
export type ProbeSources = {
  targets: readonly Target[]; events?: EventReader; control?: ControlOperations; prometheusUrl?: string; stateDir?: string;
  /** The levers the grader's own run sets (lab 3.2), with NATS; who it acts as; where it reports progress. */
  tuning?: TuningSources; by?: string; progress?: (line: string) => void;
};
export type ProbeContext = ProbeSources & {
  run: LabRun; probeOf: (checkId: string) => Probe | undefined; prometheus?: boolean;
  /** The slots the lab's setup gave each pool. */
  startSlots?: Readonly<Record<string, number>>;
};

/** Every single probe, the parts of `all` probes included. */
export const singleProbes = (probes: readonly (Probe | AnyProbe)[]): SingleProbe[] =>
  probes.flatMap((p): SingleProbe[] => (p.kind === 'all' || p.kind === 'any' ? singleProbes(p.of) : [p])).flatMap((p) => (p.kind === 'promql' && p.else ? [p, p.else] : [p]));

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
  if (given === undefined) return { holds: false, reason: `no answer yet: ${answerCommand(run.id)} ${probe.key}=<value>` };
  const right = probe.truth !== undefined ? given === run.choices[probe.truth] : (probe.accept ?? []).includes(given);
  return right ? { holds: true, measured: given } : { holds: false, measured: given, reason: `${probe.key}=${given} is not it` };
}

function heldResult(probe: Extract<Probe, { kind: 'held' }>, run: LabRun): ProbeResult {
  const held = run.held[probe.check];
  return held ? { holds: true, measured: `${probe.check} held at ${held.at}` } : { holds: false, reason: `${probe.check} has not held yet` };
}

function single(p: SingleProbe, scrape: Scrape, ctx: ProbeContext): ProbeResult | Promise<ProbeResult> {
  switch (p.kind) {
    case 'metric': return metricResult(p, scrape, ctx.run);
    case 'reading': return readingResult(p, scrape.now, ctx.run);
    case 'ratio': return ratioResult(p, scrape.now, ctx.run);
    case 'event': return eventResult(p, { since: new Date(ctx.run.startedAt), probeOf: ctx.probeOf, heldAt: (id) => ctx.run.held[id]?.at, ...(ctx.events ? { read: ctx.events } : {}) });
    case 'ready': return readyResult(ctx.targets);
    case 'restarted': return restartedResult(p, ctx.targets, ctx.run);
    case 'prometheus': return prometheusResult(p, ctx.prometheusUrl, ctx.run);
    case 'dashboard': return dashboardResult(p, ctx.stateDir, ctx.prometheusUrl);
    case 'alert-rules': return alertRulesResult(p, ctx.stateDir, ctx.prometheusUrl);
    case 'held': return heldResult(p, ctx.run);
    case 'answer': return answerResult(p, ctx.run);
    case 'abnormal': return abnormalResult(p, ctx.run);
    case 'autoscaler-free': return autoscalerFreeResult(ctx.control);
    case 'text': return textResult(p, ctx.run);
    case 'forecast': return forecastResult(p, ctx.run, ctx.prometheusUrl);
    case 'tuned': return tunedResult(p, { ...ctx, startSlots: ctx.startSlots ?? {} });
    case 'promql':
      if (ctx.prometheus && ctx.prometheusUrl) return promqlResult(p, ctx.run, ctx.prometheusUrl);
      return p.else ? single(p.else, scrape, ctx) : { holds: false, reason: 'this check needs Prometheus, which does not answer here' };
  }
}

/** A probe whose source fails (NATS down while the events are read, in lab 3.7) does not hold,
 * with the reason; the other checks are still graded. */
async function guarded(p: SingleProbe, scrape: Scrape, ctx: ProbeContext): Promise<ProbeResult> {
  try {
    return await single(p, scrape, ctx);
  } catch (err) {
    return { holds: false, reason: `cannot be read now: ${(err as Error).message}` };
  }
}

async function allResult(parts: readonly (SingleProbe | AnyProbe)[], scrape: Scrape, ctx: ProbeContext): Promise<ProbeResult> {
  const results = await Promise.all(parts.map((p) => (p.kind === 'any' ? anyResult(p.of, scrape, ctx) : guarded(p, scrape, ctx))));
  const failing = results.filter((r) => !r.holds);
  const measured = results.map((r) => r.measured).filter((m) => m !== undefined).join('; ');
  return failing.length === 0 ? { holds: true, measured } : { holds: false, measured, reason: failing.map((r) => r.reason).join('; ') };
}

async function anyResult(parts: readonly SingleProbe[], scrape: Scrape, ctx: ProbeContext): Promise<ProbeResult> {
  const results = await Promise.all(parts.map((p) => guarded(p, scrape, ctx)));
  const holding = results.find((r) => r.holds);
  return holding ?? { holds: false, reason: `none of: ${results.map((r) => r.reason).join('; or ')}` };
}

/** Runs every probe; the probes that read metrics share one scrape of the stack. */
export async function runProbes(probes: readonly Probe[], ctx: ProbeContext): Promise<ProbeResult[]> {
  const parts = singleProbes(probes);
  const scrape = await scrapeFor(parts, ctx.targets);
  if (parts.some((p) => p.kind === 'promql')) ctx = { ...ctx, prometheus: await prometheusReady(ctx.prometheusUrl) };
  return Promise.all(probes.map((p) => {
    if (p.kind === 'all') return allResult(p.of, scrape, ctx);
    return p.kind === 'any' ? anyResult(p.of, scrape, ctx) : guarded(p, scrape, ctx);
  }));
}
