// A concurrency limit like a database connection pool: `limit` requests run at once, up to
// `queue` more wait in line, and the rest are refused at once (the caller sees 503 OVERLOADED).
// The limit may change while requests run (the pool_limit fault shrinks the pool): a smaller one
// takes effect as running requests finish, never by interrupting them.
export type Limiter = {
  /** Resolves with a release function, or with undefined when the line is full. */
  acquire(): Promise<(() => void) | undefined>;
  readonly running: number;
  readonly waiting: number;
  readonly limit: number;
};

export function createLimiter(size: number, queue: number, current: () => number = () => size): Limiter {
  let running = 0;
  const waiters: Array<() => void> = [];

  const release = () => {
    // Hand the slot to the next in line, unless the pool shrank below what runs now.
    const next = running <= current() ? waiters.shift() : undefined;
    if (next) next();
    else running -= 1;
  };

  return {
    acquire() {
      if (running < current()) {
        running += 1;
        return Promise.resolve(release);
      }
      if (waiters.length >= queue) return Promise.resolve(undefined);
      return new Promise((resolve) => waiters.push(() => resolve(release)));
    },
    get running() { return running; },
    get waiting() { return waiters.length; },
    get limit() { return current(); },
  };
}
