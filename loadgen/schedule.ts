// When each arrival of an open-model run is due: arrival i at i / rate seconds after the start,
// fixed before the run begins. Response times never move it (no coordinated omission).
export type Schedule = {
  readonly rate: number;
  /** How many arrivals the run has: rate x duration, or fewer when a job cap is set. */
  readonly total: number;
  /** When arrival i is due, in ms after the start. */
  at(i: number): number;
  /** How many arrivals are due `elapsedMs` after the start. */
  dueBy(elapsedMs: number): number;
};

export function arrivalSchedule(rate: number, durationMs: number, maxJobs = Infinity): Schedule {
  const intervalMs = 1000 / rate;
  const total = Math.min(maxJobs, Math.floor((rate * durationMs) / 1000));
  return {
    rate,
    total,
    at: (i) => i * intervalMs,
    dueBy: (elapsedMs) => Math.min(total, Math.floor(elapsedMs / intervalMs) + 1),
  };
}
