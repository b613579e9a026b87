// The console's one reader of the roles: while at least one page is open it scrapes every role's
// /metrics each interval and turns the last two scrapes into the same Snapshot `tps status` computes
// (operator/status/snapshot.ts), then hands it to every open page at once. Twenty open pages cost
// one scrape, and none costs nothing. A bounded ring keeps the last points for the board's lines
// (the history when no Prometheus runs; it starts when the first page opens).
import type { Logger } from '#platform/logger.ts';
import { scrapeAll, type Scrape, type Target } from '#operator/status/collect.ts';
import { pointOf, type BoardPoint } from '#operator/status/history.ts';
import { snapshot, type Snapshot } from '#operator/status/snapshot.ts';


export type Sampler = {
  /** Calls back with every new snapshot while subscribed; the first comes after two scrapes. */
  subscribe(listener: (s: Snapshot) => void): () => void;
  latest(): Snapshot | undefined;
  history(): readonly BoardPoint[];
  /** A snapshot now: the latest when it is fresh, else two scrapes one interval apart. */
  current(): Promise<Snapshot>;
  stop(): void;
};

export type SamplerOptions = { targets: () => Target[]; intervalMs: number; historyPoints: number; logger: Logger };

export function startSampler(opts: SamplerOptions): Sampler {
  const listeners = new Set<(s: Snapshot) => void>();
  const ring: BoardPoint[] = [];
  let previous: { at: number; scrapes: Scrape[] } | undefined;
  let last: Snapshot | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function sample(): Promise<Snapshot | undefined> {
    const at = Date.now();
    const scrapes = await scrapeAll(opts.targets());
    const before = previous;
    previous = { at, scrapes };
    if (!before) return undefined;
    const s = snapshot({ at: new Date(at).toISOString(), seconds: Math.max(0.001, (at - before.at) / 1000), before: before.scrapes, after: scrapes });
    last = s;
    ring.push(pointOf(s, at));
    if (ring.length > opts.historyPoints) ring.splice(0, ring.length - opts.historyPoints);
    return s;
  }

  function schedule(): void {
    if (stopped || timer || listeners.size === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      sample().then((s) => {
        if (s) for (const listener of listeners) listener(s);
      }, (err: unknown) => opts.logger.warn({ err }, 'console: a scrape of the roles failed')).finally(schedule);
    }, previous ? opts.intervalMs : 0);
  }

  const sampler: Sampler = {
    subscribe(listener) {
      listeners.add(listener);
      if (last) listener(last);
      schedule();
      return () => {
        listeners.delete(listener);
        // Nobody looks: the next page starts from two fresh scrapes, not from a stale one.
        if (listeners.size === 0) { clearTimeout(timer); timer = undefined; previous = undefined; }
      };
    },
    latest: () => last,
    history: () => ring,
    current: () => freshSnapshot(sampler, opts.intervalMs),
    stop() {
      stopped = true;
      clearTimeout(timer);
      listeners.clear();
    },
  };
  return sampler;
}

/** The latest snapshot when fresh, else the next one (two scrapes when nobody was looking). */
function freshSnapshot(sampler: Sampler, intervalMs: number): Promise<Snapshot> {
  const fresh = (s: Snapshot | undefined): s is Snapshot => s !== undefined && Date.now() - Date.parse(s.at) < 2 * intervalMs;
  const last = sampler.latest();
  if (fresh(last)) return Promise.resolve(last);
  return new Promise((resolve) => {
    const unsubscribe = sampler.subscribe((s) => {
      if (!fresh(s)) return;
      queueMicrotask(() => unsubscribe());
      resolve(s);
    });
  });
}
