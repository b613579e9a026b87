// The BullMQ pipeline's worker: a BullMQ Worker (64 at once, as our fast pool's worker) that calls
// service-a over HTTP through an opossum breaker with the same request, headers and timeout as our
// worker's first hop (bench/lib/service-a-call.ts), and completes the job with service-a's answer.
//   node bench/targets/bullmq-pipeline-worker.ts <redis port> <service-a url>
import { createServer } from 'node:http';
import CircuitBreaker from 'opossum';
import { Worker } from 'bullmq';
import { serviceAClient, serviceATimeoutMs } from '../lib/service-a-call.ts';

const [redisPort, serviceA] = [Number(process.argv[2]), process.argv[3] ?? 'http://127.0.0.1:8081'];
const client = serviceAClient(serviceA, 64);
const breaker = new CircuitBreaker(client.call, { timeout: serviceATimeoutMs, errorThresholdPercentage: 50, resetTimeout: 10_000, volumeThreshold: 20 });
const worker = new Worker('jobs', async (job) => breaker.fire({ id: job.id ?? '', type: job.data.type, payload: job.data.payload, attempt: job.attemptsMade + 1 }),
  { connection: { host: '127.0.0.1', port: redisPort }, concurrency: 64 });
// Ready once the worker is connected: the benchmark polls this before it sends load.
createServer((_req, res) => res.writeHead(worker.isRunning() ? 200 : 503).end()).listen(Number(process.env.READY_PORT), '127.0.0.1');
process.once('SIGTERM', () => { void worker.close().then(() => client.close()).then(() => process.exit(0)); });
