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

/**
 * A work queue that still holds messages its consumer had acknowledged (up to its ack floor): a
 * broker that lost its last writes can keep the consumer's state and lose the deletes its
 * acknowledgements made (seen after a power cut: 466 of a queue's 655 messages). The consumer
 * never delivers them again and a work queue removes a message only when it is acknowledged, so
 * they would fill the queue for good: its depth, its alerts and the autoscaler's view, and the
 * room the ingress has before it refuses. They are done; provisioning removes them (the job
 * queues have one consumer each). Returns what was found and done, or undefined.
 */
export async function dropAcknowledged(jsm: JetStreamManager, decl: ConsumerDecl): Promise<string | undefined> {
  // The consumer first: its floor only grows, so a stream read after it never looks behind it.
  const consumer = await jsm.consumers.info(decl.stream, decl.config.durable_name);
  const stream = await jsm.streams.info(decl.stream);
  const floor = consumer.ack_floor.stream_seq;
  if (stream.config.retention !== RetentionPolicy.Workqueue || stream.state.messages === 0 || stream.state.first_seq > floor) return undefined;
  const { purged } = await jsm.streams.purge(decl.stream, { seq: floor + 1 });
  if (purged === 0) return undefined;
  return `its queue still held ${purged} message(s) ${decl.config.durable_name} had acknowledged (up to message ${floor}): the broker lost their deletes (a power cut?); removed, which gives their room in the queue back`;
}
