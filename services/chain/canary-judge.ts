// The caller's verdict on a canary (canary-route.ts): the canary's calls against the stable
// version's over the same window. A canary is rolled back when it fails more, or answers slower,
// than the stable version by more than its limits. What hits both tracks alike (a loaded machine
// stalling every process, a slow or failing service-c behind both) is not the canary's doing, and
// an absolute limit alone rolled a good canary back for it. With too few stable calls in the
// window to compare (the canary takes every call), the limits apply as they are.
import type { CanaryValue } from '#platform/canary.ts';

export type Call = { at: number; ok: boolean; ms: number };
export type Limits = Pick<CanaryValue, 'maxErrorPercent' | 'maxP99Ms' | 'minCalls'>;
/** One track's figures over the window; the p99 only when asked, as it sorts the window. */
export type TrackFigures = { calls: number; failed: number; p99(): number };

/** One track's calls over the window, oldest first, at most `cap` of them (the newest). */
export class CallWindow {
  #calls: Call[] = [];
  #head = 0;
  #failed = 0;
  readonly #cap: number;
  constructor(cap = 20_000) {
    this.#cap = cap;
  }

  get calls(): number { return this.#calls.length - this.#head; }
  get failed(): number { return this.#failed; }

  add(call: Call): void {
    this.#calls.push(call);
    if (!call.ok) this.#failed += 1;
    if (this.calls > this.#cap) this.#dropOldest();
  }

  /** Forgets the calls made before `from`. */
  since(from: number): void {
    while (this.calls > 0 && (this.#calls[this.#head] as Call).at < from) this.#dropOldest();
  }

  clear(): void {
    this.#calls = [];
    this.#head = 0;
    this.#failed = 0;
  }

  /** The 99th percentile of the durations (nearest rank). */
  p99(): number {
    const sorted = this.#calls.slice(this.#head).map((c) => c.ms).sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)] ?? 0;
  }

  #dropOldest(): void {
    const call = this.#calls[this.#head];
    this.#head += 1;
    if (call && !call.ok) this.#failed -= 1;
    // The dropped head is cut off once it is most of the array: each call is copied at most once.
    if (this.#head > 1024 && this.#head * 2 > this.#calls.length) {
      this.#calls = this.#calls.slice(this.#head);
      this.#head = 0;
    }
  }
}

const percentFailed = (t: TrackFigures) => (t.failed * 100) / t.calls;

/** Why the canary's calls break its limits against the stable version's, or undefined. */
export function verdict(canary: TrackFigures, stable: TrackFigures, limits: Limits): string | undefined {
  if (canary.calls < limits.minCalls) return undefined;
  const baseline = stable.calls >= limits.minCalls ? stable : undefined;
  const against = (figure: string) => (baseline ? `, the stable version's ${figure} over its last ${baseline.calls}` : '');
  const above = baseline ? ' above the stable version\'s' : '';
  const errors = percentFailed(canary);
  const stableErrors = baseline ? percentFailed(baseline) : 0;
  if (errors - stableErrors > limits.maxErrorPercent) {
    return `its error rate was ${errors.toFixed(1)} % over its last ${canary.calls} calls${against(`${stableErrors.toFixed(1)} %`)} (the limit: ${limits.maxErrorPercent} %${above})`;
  }
  const p99 = canary.p99();
  const stableP99 = baseline ? baseline.p99() : 0;
  if (p99 - stableP99 > limits.maxP99Ms) {
    return `its p99 was ${Math.round(p99)} ms over its last ${canary.calls} calls${against(`${Math.round(stableP99)} ms`)} (the limit: ${limits.maxP99Ms} ms${above})`;
  }
  return undefined;
}

/** How often at most the p99s are compared: each comparison sorts both windows. */
const latencyEveryMs = 250;

export type CanaryJudge = ReturnType<typeof canaryJudge>;

/**
 * Both tracks' calls over the key's window, and whether the canary broke its limits (once per key
 * value: `onBroken` is called once, until `reset`). The failed share is compared at every canary
 * call, the p99s at most every 250 ms.
 */
export function canaryJudge(onBroken: (value: CanaryValue, reason: string) => void, now: () => number = Date.now) {
  const tracks = { canary: new CallWindow(), stable: new CallWindow() };
  let judged = false;
  let latencyAt = -Infinity;
  return {
    get judged(): boolean { return judged; },
    reset(forget: boolean): void {
      if (forget) {
        tracks.canary.clear();
        tracks.stable.clear();
      }
      judged = false;
    },
    observe(value: CanaryValue, track: keyof typeof tracks, ok: boolean, ms: number): void {
      const at = now();
      tracks[track].add({ at, ok, ms });
      if (track !== 'canary' || judged) return;
      for (const t of Object.values(tracks)) t.since(at - value.windowMs);
      const compareLatency = at - latencyAt >= latencyEveryMs;
      if (compareLatency) latencyAt = at;
      const figures = (t: CallWindow): TrackFigures => ({ calls: t.calls, failed: t.failed, p99: () => (compareLatency ? t.p99() : 0) });
      const reason = verdict(figures(tracks.canary), figures(tracks.stable), value);
      if (!reason) return;
      judged = true;
      onBroken(value, reason);
    },
  };
}
