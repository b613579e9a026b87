// Baseline (b) of the pipeline benchmark: a BullMQ worker doing the same no-op work on a local
// Redis. Processes COUNT jobs and prints the rate and the latency from job creation to completion.
import { Worker } from 'bullmq';
import { summarise } from '../lib/stats.ts';

const count = Number(process.argv[2]);
const port = Number(process.argv[3]);
const latencies: number[] = [];
let first = 0;
const worker = new Worker('bench', async () => undefined, { connection: { host: '127.0.0.1', port }, concurrency: 64, autorun: true });
await new Promise<void>((resolve) => {
  worker.on('completed', (job) => {
    if (!first) first = Date.now();
    latencies.push(Date.now() - job.timestamp);
    if (latencies.length === count) resolve();
  });
});
console.log(JSON.stringify({ rate: Math.round((count / (Date.now() - first)) * 1000), ...summarise(latencies) }));
await worker.close();
