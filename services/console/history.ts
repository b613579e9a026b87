// The board's lines: from Prometheus when it answers (the handbook's recording rules, so they
// reach back before the console started and survive its restarts), then the console's own points
// after Prometheus' last; else the console's bounded ring alone, and the page says which. Prometheus
// is read at most every `refreshMs`, and only while a page is open (a board update asks for it).
import { prometheusHistory, type BoardPoint } from '#operator/status/history.ts';
import { isFailure } from '#operator/prometheus-api.ts';
import { html, type Html } from './html.ts';

export type BoardHistory = {
  /** The points the lines draw, oldest first. */
  points(): readonly BoardPoint[];
  /** Where the lines come from, for the page. */
  source(): Html;
  /** Reads Prometheus again when the last reading is older than refreshMs (in the background). */
  refresh(): Promise<void>;
};

export type BoardHistoryOptions = {
  ring: () => readonly BoardPoint[];
  prometheusUrl: string;
  windowMs: number;
  stepMs: number;
  refreshMs: number;
};

export function boardHistory(opts: BoardHistoryOptions): BoardHistory {
  let fromPrometheus: { at: number; points: BoardPoint[] } | undefined;
  let failure: string | undefined;
  let reading: Promise<void> | undefined;
  let lastTry = 0;
  const read = async () => {
    const end = Date.now();
    const answer = await prometheusHistory(opts.prometheusUrl, { windowMs: opts.windowMs, stepMs: opts.stepMs, end });
    if (isFailure(answer)) {
      failure = answer.reason;
      fromPrometheus = undefined;
      return;
    }
    failure = undefined;
    fromPrometheus = { at: end, points: answer };
  };
  return {
    points() {
      const ring = opts.ring();
      const prometheus = fromPrometheus?.points ?? [];
      const last = prometheus.at(-1)?.at ?? 0;
      return [...prometheus, ...ring.filter((p) => p.at > last)];
    },
    source() {
      if (fromPrometheus) return html`<span data-testid="history-source" data-source="prometheus">Lines: Prometheus at ${opts.prometheusUrl} (the last ${opts.windowMs / 60_000} minutes, every ${opts.stepMs / 1000} s, 1-minute rates), then this console's own points.</span>`;
      return html`<span data-testid="history-source" data-source="memory">Lines: kept in this console's memory since the first page opened, up to ${opts.windowMs / 60_000} minutes, lost when it restarts${failure ? ` (Prometheus: ${failure})` : ''}.</span>`;
    },
    refresh() {
      if (reading || Date.now() - lastTry < opts.refreshMs) return reading ?? Promise.resolve();
      lastTry = Date.now();
      reading = read().finally(() => { reading = undefined; });
      return reading;
    },
  };
}
