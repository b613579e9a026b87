// What a JetStream API error says about a stream message, decided once here so callers can tell
// "the message is already gone" (done) and "the stream is full" from every other failure (NATS
// away, a permission missing, a timeout), which they must treat as "not done, try again".
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { isTimeout } from '../errors.ts';

/** nats-server error codes (server/errors.json) that no constant of nats.js names. */
const serverCodes = {
  /** "sequence N not found": deleting a message inside the stream's range that is already gone. */
  sequenceNotFound: 10043,
  /** A message delete the store refused; the store's own error is the description. */
  messageDeleteFailed: 10057,
} as const;

/** Store errors inside a failed delete that mean "no such message (any more)", as 2.9 words them. */
const goneInStore = new Set(['no message found', 'stream store EOF']);

/** The message a get or delete named is not in the stream: acked, deleted, purged or expired. */
export function isMessageGone(err: unknown): boolean {
  if (!(err instanceof JetStreamApiError)) return false;
  if (err.code === JetStreamApiCodes.NoMessageFound || err.code === serverCodes.sequenceNotFound) return true;
  return err.code === serverCodes.messageDeleteFailed && goneInStore.has(err.message);
}

const limitReached = /maximum (messages|bytes)( per subject)? exceeded/i;

/** A publish refused because the stream is at its limit (`discard: new` never evicts to make room).
 * Whatever the client: nats.js's JetStreamApiError and the ingress's own PublishError both carry
 * the server's code and description. */
export function isStreamFull(err: unknown): boolean {
  return err instanceof Error && limitReached.test(err.message);
}

/** JSStreamStoreFailedF: the store refused a write, and its description is the store's own error:
 * "maximum messages exceeded" (a full stream, above) or an I/O error such as "write <file>: no
 * space left on device". */
const storeFailed = 10077;

/** A write the broker's store failed (its disk full, an I/O error), not a stream at its limit. */
export function isStoreFailure(err: unknown): boolean {
  return err instanceof Error && (err as { code?: unknown }).code === storeFailed && !isStreamFull(err);
}

/** JetStream's "temporarily unavailable" (a stream or the meta layer without a leader for a moment). */
const temporarilyUnavailable = 10008;

/** A request NATS could not answer for a moment: a timeout, no responders, a stream without a
 * leader while a cluster elects one. Worth asking again; anything else is not. */
export function isTransientNatsError(err: unknown): boolean {
  if (isTimeout(err)) return true;
  const e = err as { name?: string; cause?: { name?: string }; code?: number } | undefined;
  if (e?.name === 'RequestError' && e.cause?.name === 'NoResponders') return true;
  return err instanceof JetStreamApiError && (err.code === temporarilyUnavailable || err.status === 503);
}
