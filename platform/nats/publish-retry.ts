// A publish refused because the stream has no leader for a moment (a cluster node lost, an
// election under way: "no responders", 503, or the connection dropping while the client moves to
// another node) is tried again with the same message id until the publish's own deadline. The
// stream's duplicate window makes a retry of a message that was stored after all a duplicate ack,
// never a second job (reliability matrix R9). A full stream, a store that failed to write (a full
// disk: also a 503) and a missing ack are not retried.
import { isStoreFailure, isStreamFull } from './stream-errors.ts';
import { PublishError, type JetStreamPublisher } from './jetstream-publisher.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function isLeaderless(err: unknown): boolean {
  return err instanceof PublishError && err.status === 503 && !isStreamFull(err) && !isStoreFailure(err);
}

export function withPublishRetry(publisher: JetStreamPublisher, opts: { timeoutMs: number; backoffMs?: number; onRetry?: () => void }): JetStreamPublisher {
  const backoff = opts.backoffMs ?? 100;
  return {
    async publish(subject, data, publishOpts) {
      const deadline = Date.now() + opts.timeoutMs;
      for (let attempt = 0; ; attempt++) {
        try {
          return await publisher.publish(subject, data, publishOpts);
        } catch (err) {
          // Without a message id a retry could store the job twice: only an identified publish is retried.
          const wait = Math.min(backoff * 2 ** attempt, 1_000);
          if (!publishOpts.msgID || !isLeaderless(err) || Date.now() + wait >= deadline) throw err;
          opts.onRetry?.();
          await sleep(wait);
        }
      }
    },
    failPending: (reason) => publisher.failPending(reason),
    close: () => publisher.close(),
  };
}
