// Publishes a job and waits for JetStream's PubAck, turning every way that can fail into a
// catalogue error: a full stream is QUEUE_FULL, a store that failed to write (the broker's disk
// full) is BROKER_STORAGE_FAILED at once, a missing or silent broker is BROKER_UNAVAILABLE (after
// retries with the same message id while a stream has no leader: publish-retry.ts).
// In-flight publishes fail at once when the connection drops, then are retried with the same id
// within the publish timeout (the client may be moving to another node of a cluster).
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import type { Chaos } from '#platform/chaos/injector.ts';
import { withPublishFaults } from '#platform/chaos/publish-boundary.ts';
import { AppError } from '#platform/errors.ts';
import { createJetStreamPublisher, PublishError, type PubAck } from '#platform/nats/jetstream-publisher.ts';
import { isStoreFailure, isStreamFull } from '#platform/nats/stream-errors.ts';
import { withPublishRetry } from '#platform/nats/publish-retry.ts';

/** Seconds a refused client waits (Retry-After) when a queue is full or NATS is unavailable. */
export const retryAfter = { queueFull: 1, brokerUnavailable: 2 } as const;

export type Publisher = {
  publish(subject: string, data: Uint8Array, opts: { msgID: string; headers?: MsgHdrs }): Promise<PubAck>;
  close(): void;
};

/** With `chaos`, the faults aimed at the ingress act at this publish (latency, hang, error_rate). */
export function createPublisher(nc: NatsConnection, opts: { timeoutMs: number; chaos?: Chaos }): Publisher {
  // Retried inside the chaos boundary: an injected publish failure stays one failure, as the fault says.
  const plain = withPublishRetry(createJetStreamPublisher(nc, opts), { timeoutMs: opts.timeoutMs });
  const publisher = opts.chaos ? withPublishFaults(plain, opts.chaos) : plain;
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect' || status.type === 'staleConnection') publisher.failPending('the connection to NATS was lost');
    }
  })();
  return {
    publish: (subject, data, { msgID, headers }) =>
      publisher.publish(subject, data, { msgID, ...(headers ? { headers } : {}) }).catch((err: unknown) => { throw mapPublishError(err); }),
    close: () => publisher.close(),
  };
}

function mapPublishError(err: unknown): AppError {
  if (isStreamFull(err)) return new AppError('QUEUE_FULL', { retryAfterSeconds: retryAfter.queueFull, cause: err });
  // The store's error names the broker's files: the client is told what it means, the log keeps it.
  if (isStoreFailure(err)) {
    const detail = /no space left on device/i.test((err as Error).message) ? "(the broker's disk is full)" : "(nats-server's log says why)";
    return new AppError('BROKER_STORAGE_FAILED', { detail, retryAfterSeconds: retryAfter.brokerUnavailable, cause: err });
  }
  if (err instanceof PublishError && (err.code === 0 || err.status === 503)) {
    return new AppError('BROKER_UNAVAILABLE', { detail: `(${err.message})`, retryAfterSeconds: retryAfter.brokerUnavailable, cause: err });
  }
  return new AppError('INTERNAL', { cause: err });
}
