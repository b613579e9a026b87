// The floor pipeline's worker: the least a worker of our pipeline's shape can do. It pulls from
// JOBS_FAST (64 jobs at once, as our fast pool's worker), calls service-a with the same request as
// ours and the BullMQ pipeline's (bench/lib/service-a-call.ts), says `floor.done` on core NATS
// (what the benchmark times a job's end by) and acks. No job status, no breaker, no retry policy,
// no metrics, no shutdown drain: less than any pipeline that keeps our guarantees, so its rate
// bounds what one can reach on this machine.
//   node bench/targets/floor-worker.ts <nats url> <service-a url>
import { createServer } from 'node:http';
import { jetstream, type JsMsg } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { serviceAClient } from '../lib/service-a-call.ts';

const [natsUrl, serviceA] = process.argv.slice(2);
const slots = 64;
const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
const client = serviceAClient(serviceA ?? 'http://127.0.0.1:8081', slots);
const messages = await (await jetstream(nc).consumers.get('JOBS_FAST', 'workers-fast')).consume({ max_messages: slots });
createServer((_req, res) => res.writeHead(200).end()).listen(Number(process.env.READY_PORT), '127.0.0.1');
process.once('SIGTERM', () => { void nc.close().then(() => client.close()).then(() => process.exit(0)); });

async function work(m: JsMsg): Promise<void> {
  const job = m.json<{ id: string; type: string }>();
  try {
    await client.call({ id: job.id, type: job.type, payload: {}, attempt: m.info.deliveryCount });
    nc.publish('floor.done', job.id);
    m.ack();
  } catch {
    m.nak();
  }
}

let running = 0;
let slotFree: (() => void) | undefined;
for await (const m of messages) {
  if (running >= slots) await new Promise<void>((resolve) => { slotFree = resolve; });
  running++;
  void work(m).finally(() => {
    running--;
    slotFree?.();
    slotFree = undefined;
  });
}
