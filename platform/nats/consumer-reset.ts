// A consumer ahead of its stream. A broker that lost its last writes keeps a consumer's state (it
// had delivered, and been acknowledged, messages up to sequence D) but not the stream's tail: the
// stream now ends before D. A host that lost its power leaves exactly that behind, since
// nats-server's fsync is lazy by default (docs/reliability.md, R8): seen with nats-server 2.9.10 on
// ext4, the consumer's small state file reached the disk and the queue's last messages did not
// (tests/power-cut.test.ts). The stream then gives its next messages the sequences the consumer
// believes done, and it never delivers them: jobs accepted with a 202 after the restart stay in
// their queue, unworked, and nothing says so. Provisioning (every `tps up`, compose's provision
// step) finds such a consumer and makes it again: on a work-queue stream (the job queues) from its
// first message, since such a stream holds only what is not yet acknowledged; on any other (the
// advisories) after the last message the stream still holds, which the consumer had acknowledged.
import { DeliverPolicy, RetentionPolicy, type ConsumerInfo, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import type { ConsumerDecl } from './topology.ts';

/** Where a consumer starts reading: fixed when it is made, and not a setting to compare after. */
export const startFields: ReadonlySet<string> = new Set(['deliver_policy', 'opt_start_seq', 'opt_start_time']);

export type ConsumerAhead = { delivered: number; streamLastSeq: number; workQueue: boolean };

/** The consumer has delivered messages past the stream's last one: the stream lost them. */
export function consumerAhead(consumer: ConsumerInfo, stream: StreamInfo): ConsumerAhead | undefined {
  const delivered = consumer.delivered.stream_seq;
  const streamLastSeq = stream.state.last_seq;
  if (delivered <= streamLastSeq) return undefined;
  return { delivered, streamLastSeq, workQueue: stream.config.retention === RetentionPolicy.Workqueue };
}

/** What was found, in the words of both the provisioning report and a role's start-up refusal. */
export function aheadReason(ahead: ConsumerAhead): string {
  return `delivered up to message ${ahead.delivered} of a stream that now ends at ${ahead.streamLastSeq}: the broker lost its last writes (a power cut?)`;
}

/** Deletes the consumer and makes it again as declared, reading from where nothing is skipped;
 * returns what was found and done, for the provisioning report. */
export async function resetConsumer(jsm: JetStreamManager, decl: ConsumerDecl, ahead: ConsumerAhead): Promise<string> {
  const start = ahead.workQueue ? {} : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: ahead.streamLastSeq + 1 };
  await jsm.consumers.delete(decl.stream, decl.config.durable_name);
  await jsm.consumers.add(decl.stream, { ...decl.config, ...start });
  const from = ahead.workQueue ? 'every message the stream holds' : `from message ${ahead.streamLastSeq + 1}`;
  return `it had ${aheadReason(ahead)}; made again to deliver ${from}`;
}
