// The proctor of an exam day (operator/exam/timeline.ts): runs the day's load and brings each
// failure at its time, announcing it on the EVENTS stream. A failure's fault stays until the day
// ends: one that expires or that the candidate clears with `tps chaos` is set again (the slow
// service is someone else's; the candidate's levers are what make the system cope). A crash is
// one-shot and a leak lives in the process it was set on (a restart frees it): those are set once.
// At the end every fault of the day is cleared and the load stops.
import type { ActiveFault } from '#platform/chaos/catalogue.ts';
import type { LoadResult } from '#loadgen/generator.ts';
import { failureParams, resolveTarget, wallMs, type Failure, type Timeline } from './timeline.ts';

/** Set once: a crash acts once, a leak stays in the process it was set on. */
const setOnce = new Set(['crash', 'memory_leak']);
/** The longest a fault may be set for (the chaos catalogue's limit), less a margin to set it again. */
const maxFaultMs = 2 * 3_600_000;
const renewBeforeMs = 60_000;
const tickMs = 500;
const giveUpAfterMs = 60_000;

export type ProctorDeps = {
  timeline: Timeline;
  run: { id: string; startedAt: string; speed: number; choices: Readonly<Record<string, string>> };
  chaos: { set(request: { target: string; fault: string; params?: Record<string, unknown>; durationMs?: number }, by: string): Promise<unknown>; clear(target: string, fault?: string, by?: string): Promise<unknown>; list(): Promise<ActiveFault[]> };
  announce(subject: 'failure' | 'ended', fields: Record<string, unknown>): Promise<void>;
  load(opts: { rate: number; seconds: number; mix?: string | undefined; signal: AbortSignal }): Promise<LoadResult>;
  say(line: string): void;
  signal: AbortSignal;
  /** Whether the run still goes on: false once `tps exam 3 stop` ended it (in compose nobody
   * signals the proctor's container first, so it looks; natively stop also sends SIGTERM). */
  stillOn?: () => boolean;
  now?: () => number;
};

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
});

export async function runProctor(deps: ProctorDeps): Promise<void> {
  const { timeline, run } = deps;
  const now = deps.now ?? Date.now;
  const start = Date.parse(run.startedAt);
  const end = start + wallMs(timeline.length, run.speed);
  const by = `exam ${run.id} (the day's failures)`;
  const stopLoad = new AbortController();
  deps.signal.addEventListener('abort', () => stopLoad.abort(), { once: true });
  const load = deps.load({ rate: timeline.load.rate, seconds: Math.max(1, Math.ceil((end - now()) / 1000)), mix: timeline.load.mix, signal: stopLoad.signal })
    .then((r) => deps.say(`load ended: ${r.counts.accepted} of ${r.counts.arrivals} jobs accepted`), (err: unknown) => deps.say(`load failed: ${(err as Error).message}`));
  deps.say(`exam ${run.id}: load ${timeline.load.rate} jobs/s until ${new Date(end).toISOString()}; ${timeline.failures.length} failures at ${run.speed}x`);

  const begun = new Set<string>();
  // The stack gone (tps down, a test's stack stopped): the day cannot go on; stop rather than linger.
  let failingSince: number | undefined;
  const setFault = async (f: Failure, again: boolean) => {
    const target = resolveTarget(f.target, run.choices);
    const durationMs = Math.min(maxFaultMs, Math.max(1_000, end - now() + 5_000));
    const t = now();
    await deps.chaos.set({ target, fault: f.fault, params: failureParams(f, run.speed), durationMs }, by);
    deps.say(`${again ? 'set again' : 'began'}: ${f.label} (${f.fault} on ${target}; in ${now() - t} ms)`);
    if (!again) await deps.announce('failure', { failure: f.id, target, fault: f.fault, label: f.label });
  };

  let stopped = false;
  while (!deps.signal.aborted && now() < end) {
    if (deps.stillOn && !deps.stillOn()) { stopped = true; break; }
    try {
      const active = await deps.chaos.list();
      for (const f of timeline.failures) {
        if (now() < start + wallMs(f.at, run.speed)) continue;
        if (!begun.has(f.id)) { await setFault(f, false); begun.add(f.id); continue; }
        if (setOnce.has(f.fault)) continue;
        const target = resolveTarget(f.target, run.choices);
        const inForce = active.find((a) => a.target === target && a.fault === f.fault);
        if (!inForce || Date.parse(inForce.expiresAt) - now() < Math.min(renewBeforeMs, end - now())) {
          if (end - now() > 2_000) await setFault(f, true);
        }
      }
      failingSince = undefined;
    } catch (err) {
      failingSince ??= now();
      if (now() - failingSince > giveUpAfterMs) { deps.say(`the stack does not answer for ${giveUpAfterMs / 1000} s: the day ends here (${(err as Error).message})`); break; }
      deps.say(`could not bring the day's failures (will retry): ${(err as Error).message}`);
    }
    await sleep(tickMs, deps.signal);
  }
  stopLoad.abort();
  await load;
  for (const f of timeline.failures) await deps.chaos.clear(resolveTarget(f.target, run.choices), f.fault, by).catch(() => undefined);
  if (!deps.signal.aborted && !stopped) await deps.announce('ended', {}).catch(() => undefined);
  deps.say(deps.signal.aborted || stopped ? 'proctor stopped' : 'the exam day is over: faults cleared, load stopped');
}
