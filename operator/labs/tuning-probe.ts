// Lab 3.2's last word: the grader's own run. The settings the learner arrived at and the lab's
// starting point, each under the same load (operator/tune/compare.ts); the metric the learner
// named must be better by the share the lab asks, without more failed attempts. A run takes a
// minute, so its outcome is kept beside the lab's state and reused until a setting changes (or a
// new run of the lab starts): `tps lab status --watch` does not load the system over and over.
import { answerCommand } from './probe-result.ts';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { defaultMix, parseMix } from '#loadgen/mix.ts';
import { changedSettings, compareSettings, improvement, type Comparison } from '#operator/tune/compare.ts';
import type { LeverSources } from '#operator/tune/levers.ts';
import { TuneError, tuneGoals, type TuneGoal, type TuneRow } from '#operator/tune/tune.ts';
import type { Target } from '#operator/status/replica-targets.ts';
import type { Probe } from './lab-schema.ts';
import { learnerFile, type LabRun } from './lab-state.ts';
import type { ProbeResult } from './probe-result.ts';

type TunedProbe = Extract<Probe, { kind: 'tuned' }>;
export type TuningSources = Omit<LeverSources, 'by' | 'applyTimeoutMs' | 'targets'>;
export type TunedContext = {
  run: LabRun; targets: readonly Target[]; stateDir?: string; by?: string; tuning?: TuningSources;
  /** The slots the lab's setup gave each pool: the starting point's. */
  startSlots: Readonly<Record<string, number>>;
  progress?: (line: string) => void;
};

type Kept = { startedAt: string; key: string; comparison: Comparison };
const keptFile = (stateDir: string, id: string) => learnerFile(stateDir, `${id}.grader-run.json`);

function kept(stateDir: string | undefined, run: LabRun, key: string): Comparison | undefined {
  if (!stateDir) return undefined;
  try {
    const k = JSON.parse(readFileSync(keptFile(stateDir, run.id), 'utf8')) as Kept;
    return k.startedAt === run.startedAt && k.key === key ? k.comparison : undefined;
  } catch { return undefined; }
}

function keep(stateDir: string | undefined, run: LabRun, key: string, comparison: Comparison): void {
  if (!stateDir) return;
  const file = keptFile(stateDir, run.id);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ startedAt: run.startedAt, key, comparison } satisfies Kept, null, 2)}\n`);
}

const figure: Record<TuneGoal, (r: TuneRow) => string> = {
  p99: (r) => `${r.p99Ms.toFixed(0)} ms`, p50: (r) => `${r.p50Ms.toFixed(1)} ms`, throughput: (r) => `${r.throughput.toFixed(1)} jobs/s`,
  errors: (r) => `${(r.errorRate * 100).toFixed(2)} %`, cpu: (r) => `${r.cpuPercent.toFixed(0)} % CPU`,
};

const changes = (c: Comparison) => c.settings.map((s) => `${s.name} ${s.baseline ?? 'start-up'} -> ${s.final ?? 'start-up'}`).join(', ');

async function comparison(probe: TunedProbe, ctx: TunedContext & { tuning: TuningSources }, goal: TuneGoal): Promise<Comparison | string> {
  const levers: LeverSources = { ...ctx.tuning, targets: ctx.targets, by: `${ctx.by ?? 'grader'} (lab ${ctx.run.id} grader)`, applyTimeoutMs: 15_000 };
  const settings = await changedSettings(levers, ctx.startSlots);
  const durationMs = Math.max(3, Math.round(probe.seconds / ctx.run.speed)) * 1000;
  const key = JSON.stringify({ settings, rate: probe.rate, durationMs });
  const before = kept(ctx.stateDir, ctx.run, key);
  if (before) return before;
  ctx.progress?.(`the grader's own run: ${probe.rate} jobs/s for ${durationMs / 1000} s with the starting point's settings, then with yours`);
  try {
    const c = await compareSettings({
      settings, goal, levers, rate: probe.rate, durationMs, mix: parseMix(defaultMix), targets: ctx.targets,
      ...(ctx.progress ? { progress: ctx.progress } : {}),
    });
    // A run whose jobs did not drain measured less than it should: not kept, the next check reruns.
    if (c.baseline.drained && c.final.drained) keep(ctx.stateDir, ctx.run, key, c);
    return c;
  } catch (err) {
    if (err instanceof TuneError) return err.message;
    throw err;
  }
}

export async function tunedResult(probe: TunedProbe, ctx: TunedContext): Promise<ProbeResult> {
  const named = ctx.run.answers[probe.key];
  if (named === undefined) return { holds: false, reason: `name the metric you tuned for first: ${answerCommand(ctx.run.id)} ${probe.key}=<${tuneGoals.join('|')}>` };
  if (!(tuneGoals as readonly string[]).includes(named)) return { holds: false, measured: named, reason: `${probe.key}=${named} is not a metric the grader measures: ${tuneGoals.join(', ')}` };
  if (!ctx.tuning) return { holds: false, reason: 'the grader\'s run sets levers and needs NATS, which this command could not reach' };
  const goal = named as TuneGoal;
  const c = await comparison(probe, { ...ctx, tuning: ctx.tuning }, goal);
  if (typeof c === 'string') return { holds: false, reason: `the grader's run: ${c}` };
  const gain = improvement(goal, c.baseline, c.final);
  const by = `${Math.abs(Math.round(gain * 100))} % ${gain >= 0 ? 'better' : 'worse'}`;
  const measured = `${goal} ${figure[goal](c.baseline)} -> ${figure[goal](c.final)} (${by}) with ${changes(c)}`;
  if (!c.baseline.drained || !c.final.drained) return { holds: false, measured, reason: 'a run\'s jobs did not drain within a minute; the next check runs it again' };
  if (c.final.errorRate > c.baseline.errorRate + 0.01) {
    return { holds: false, measured, reason: `your settings fail more attempts: ${(c.final.errorRate * 100).toFixed(2)} % against ${(c.baseline.errorRate * 100).toFixed(2)} % at the starting point` };
  }
  if (gain < probe.atLeast) {
    return { holds: false, measured, reason: `in the grader's run, ${goal} went from ${figure[goal](c.baseline)} at the starting point to ${figure[goal](c.final)} with yours (${changes(c)}): ${by}; the lab asks for ${Math.round(probe.atLeast * 100)} % better` };
  }
  return { holds: true, measured };
}
