// A deadline as an AbortSignal whose timer goes away when the work ends. AbortSignal.timeout()
// cannot be cleared: every call through a breaker left a timer that fired seconds after the call
// had answered, built a DOMException and dispatched an abort nobody listened to any more (a few
// per cent of a busy worker's CPU, in its profile). The reason is a TimeoutError, as
// AbortSignal.timeout() gives, so isTimeout() (errors.ts) reads both alike.
export type Deadline = { readonly signal: AbortSignal; clear(): void };

/** Aborts after `ms`, or when `parent` aborts (with the parent's reason); clear() when done. */
export function deadlineSignal(ms: number, parent?: AbortSignal): Deadline {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), Math.max(0, ms));
  const onParentAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  return {
    signal: controller.signal,
    clear() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}

/** Runs `work` with a deadline signal of `ms` (and `parent`'s abort), cleared when it settles. */
export async function withDeadline<T>(ms: number, work: (signal: AbortSignal) => Promise<T>, parent?: AbortSignal): Promise<T> {
  const deadline = deadlineSignal(ms, parent);
  try {
    return await work(deadline.signal);
  } finally {
    deadline.clear();
  }
}
