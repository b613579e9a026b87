// The safety net for jobs whose last delivery timed out (a worker crashed or hung on its last
// attempt): JetStream stops delivering them and says so in a MAX_DELIVERIES advisory, which the
// ADVISORIES stream keeps. This moves each such job to the DLQ and off its queue.
import { jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { decodeJob } from '#platform/job-message.ts';
import type { Logger } from '#platform/logger.ts';
import { streams } from '#platform/nats/subjects.ts';
import { dlqMoverConsumer } from '#platform/nats/topology.ts';
import { poolDefinitions, type Pool } from '#platform/pools.ts';
import { publishDeadLetter } from './dead-letter.ts';
import type { WorkerEvents } from './events.ts';

const advisorySchema = z.object({ stream: z.string(), stream_seq: z.number().int(), deliveries: z.number().int() });

export async function startAdvisoryMover(nc: NatsConnection, js: JetStreamClient, pool: Pool, deps: { logger: Logger; instance: string; events: WorkerEvents }): Promise<() => void> {
  const jsm = await jetstreamManager(nc);
  const consumer = await js.consumers.get(streams.advisories, dlqMoverConsumer(pool));
  let stopped = false;

  async function move(advisory: z.infer<typeof advisorySchema>): Promise<void> {
    if (advisory.stream !== poolDefinitions[pool].stream) return;
    const stored = await jsm.streams.getMessage(advisory.stream, { seq: advisory.stream_seq }).catch(() => null);
    if (!stored) return; // already acked or dead-lettered by its worker
    const job = (() => { try { return decodeJob(stored.data); } catch { return undefined; } })();
    const now = new Date().toISOString();
    const failure = { code: 'WORKER_TIMEOUT', message: `no worker finished the job within ack_wait on its last delivery (${advisory.deliveries} deliveries)`, kind: 'retryable' as const };
    const type = job?.type ?? stored.subject.replace(/^jobs\./, '');
    const traceId = stored.header?.get('traceparent')?.split('-')[1];
    await publishDeadLetter(js, stored.data, stored.header, {
      jobId: job?.id ?? `seq-${advisory.stream_seq}`, type, pool, failure, reason: 'delivery_timeout', attempts: advisory.deliveries,
      firstFailure: now, lastFailure: now, ...(traceId ? { traceId } : {}),
      originalSubject: stored.subject, originalSeq: advisory.stream_seq, by: deps.instance,
    });
    if (job) await deps.events.deadLettered(job, advisory.deliveries, failure, 'delivery_timeout', traceId);
    await jsm.streams.deleteMessage(advisory.stream, advisory.stream_seq).catch(() => undefined);
  }

  void (async () => {
    while (!stopped) {
      try {
        const batch = await consumer.fetch({ max_messages: 10, expires: 2_000 });
        for await (const m of batch) {
          const parsed = advisorySchema.safeParse(m.json());
          if (!parsed.success) { m.term(); continue; }
          try {
            await move(parsed.data);
            m.ack();
          } catch (err) {
            deps.logger.warn({ err, advisory: parsed.data }, 'could not move a timed-out job to the DLQ; will retry');
            m.nak(5_000);
          }
        }
      } catch (err) {
        if (!stopped) {
          deps.logger.warn({ err }, 'advisory pull failed; retrying');
          await new Promise((resolve) => setTimeout(resolve, 1_000));
        }
      }
    }
  })();
  return () => { stopped = true; };
}
