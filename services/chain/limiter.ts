// A concurrency limit like a database connection pool: `limit` requests run at once, up to
// `queue` more wait in line, and the rest are refused at once (the caller sees 503 OVERLOADED).
export type Limiter = {
  /** Resolves with a release function, or with undefined when the line is full. */
  acquire(): Promise<(() => void) | undefined>;
  readonly running: number;
  readonly waiting: number;
  readonly limit: number;
};

export function createLimiter(limit: number, queue: number): Limiter {
  let running = 0;
  const waiters: Array<() => void> = [];

  const release = () => {
    const next = waiters.shift();
    if (next) next();
    else running -= 1;
  };

  return {
    acquire() {
      if (running < limit) {
        running += 1;
        return Promise.resolve(release);
      }
      if (waiters.length >= queue) return Promise.resolve(undefined);
      return new Promise((resolve) => waiters.push(() => resolve(release)));
    },
    get running() { return running; },
    get waiting() { return waiters.length; },
    limit,
  };
}
