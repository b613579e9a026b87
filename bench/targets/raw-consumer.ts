// Baseline (a) of the pipeline benchmark: the raw JetStream rate with the same client. Pulls
// COUNT messages from JOBS_FAST (batches of 256), acks each, and prints the rate and the latency
// from each message's publish time to its ack.
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { summarise } from '../lib/stats.ts';

const count = Number(process.argv[2]);
const nc = await connect({ servers: process.argv[3], noAsyncTraces: true });
const consumer = await jetstream(nc).consumers.get('JOBS_FAST', 'workers-fast');
const latencies: number[] = [];
let first = 0;
while (latencies.length < count) {
  const batch = await consumer.fetch({ max_messages: 256, expires: 1_000 });
  for await (const m of batch) {
    const sentAt = Number(new TextDecoder().decode(m.data));
    m.ack();
    if (!first) first = Date.now();
    latencies.push(Date.now() - sentAt);
  }
}
console.log(JSON.stringify({ rate: Math.round((count / (Date.now() - first)) * 1000), ...summarise(latencies) }));
await nc.drain();
