// The steady state a scenario starts from and must come back to: every role answers and the
// handbook's triage (`tps diagnose`) finds nothing HIGH or CRITICAL.
import { collect, type Target } from '#operator/status/collect.ts';
import { diagnose, type Finding } from '#operator/status/diagnose.ts';
import { snapshot, type Snapshot } from '#operator/status/snapshot.ts';
import type { Clock } from './clock.ts';

export type SteadyVerdict = { steady: boolean; problems: string[] };

export function judgeSteady(s: Snapshot, findings: Finding[] = diagnose(s)): SteadyVerdict {
  const problems = [
    ...(s.roles.length === 0 ? ['no role reported metrics'] : []),
    ...s.roles.filter((r) => !r.up).map((r) => `${r.role} does not answer (${r.error ?? 'down'})`),
    ...findings.filter((f) => (f.severity === 'critical' || f.severity === 'high') && !s.roles.some((r) => !r.up && r.role === f.subject))
      .map((f) => `${f.severity.toUpperCase()} ${f.subject}: ${f.what}`),
  ];
  return { steady: problems.length === 0, problems };
}

export type SteadyCheck = () => Promise<SteadyVerdict>;

/** One check: two scrapes of every role `intervalMs` apart, as `tps diagnose` does. */
export const steadyCheck = (targets: Target[], intervalMs: number): SteadyCheck => async () => judgeSteady(snapshot(await collect(targets, intervalMs)));

export type Recovery = { steady: true; afterMs: number } | { steady: false; afterMs: number; problems: string[] };

/** Checks until steady or the deadline (measured from `since`); how long after `since` it was steady. */
export async function waitForSteady(check: SteadyCheck, opts: { clock: Clock; since: number; deadlineMs: number; signal?: AbortSignal; pauseMs?: number }): Promise<Recovery> {
  let problems: string[] = [];
  while (!opts.signal?.aborted) {
    const verdict = await check();
    const afterMs = opts.clock.now() - opts.since;
    if (verdict.steady) return { steady: true, afterMs };
    problems = verdict.problems;
    if (afterMs >= opts.deadlineMs) return { steady: false, afterMs, problems };
    await opts.clock.sleep(opts.pauseMs ?? 500, opts.signal);
  }
  return { steady: false, afterMs: opts.clock.now() - opts.since, problems: [...problems, 'interrupted'] };
}
