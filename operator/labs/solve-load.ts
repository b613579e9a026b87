// The traffic `tps lab solve` makes as a learner would: single jobs (curl) and `make load` runs,
// the latter in the background while the next steps scale or break things.
import { runLoad, type LoadResult } from '#loadgen/generator.ts';
import { defaultMix, parseMix } from '#loadgen/mix.ts';
import type { Target } from '#operator/status/replica-targets.ts';
import { LabError } from './lab-stack.ts';

function ingressUrl(targets: readonly Target[]): string {
  const ingress = targets.find((t) => t.role === 'ingress');
  if (!ingress) throw new LabError('no ingress to submit to');
  return ingress.url;
}

export async function submitJobs(targets: readonly Target[], type: string, count: number): Promise<void> {
  const url = ingressUrl(targets);
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type }) });
    if (res.status !== 202) throw new LabError(`the ingress answered ${res.status} to a ${type} job`);
  }
}

/** Load runs started by a solve; `stopAll` ends them early and waits for their summaries. */
export class LoadRuns {
  private readonly runs = new Set<{ stop: AbortController; done: Promise<LoadResult> }>();

  start(targets: readonly Target[], opts: { rate: number; seconds: number; mix?: string | undefined }): Promise<LoadResult> {
    const stop = new AbortController();
    const done = runLoad({
      url: ingressUrl(targets), rate: opts.rate, durationMs: opts.seconds * 1000, mix: parseMix(opts.mix ?? defaultMix),
      concurrencyCap: 1000, stop: stop.signal,
    });
    const run = { stop, done };
    this.runs.add(run);
    void done.finally(() => this.runs.delete(run)).catch(() => {});
    return done;
  }

  async stopAll(): Promise<number> {
    const running = [...this.runs];
    for (const r of running) r.stop.abort();
    const results = await Promise.allSettled(running.map((r) => r.done));
    return results.reduce((sum, r) => sum + (r.status === 'fulfilled' ? r.value.counts.accepted : 0), 0);
  }
}

export const loadLine = (r: LoadResult): string =>
  `load ran: ${r.counts.arrivals} arrivals, ${r.counts.accepted} jobs accepted, ${r.counts.statuses[503] + r.counts.statuses[429]} refused`;
