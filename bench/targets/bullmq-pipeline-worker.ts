// The BullMQ pipeline's worker: a BullMQ Worker (64 at once, as our fast pool's worker) that calls
// service-a over HTTP through an opossum breaker with the same request, headers and timeout as our
// worker's first hop (platform/http/downstream.ts), and completes the job with service-a's answer.
//   node bench/targets/bullmq-pipeline-worker.ts <redis port> <service-a url>
import { createServer } from 'node:http';
import CircuitBreaker from 'opossum';
import { Pool } from 'undici';
import { Worker } from 'bullmq';
import { attemptHeader, deadlineHeader } from '#platform/http/downstream.ts';

const [redisPort, serviceA] = [Number(process.argv[2]), process.argv[3] ?? 'http://127.0.0.1:8081'];
const timeoutMs = 2_000;
const pool = new Pool(serviceA, { connections: 64 });
const call = async (job: { id: string; type: string; payload: unknown; attempt: number }) => {
  const res = await pool.request({
    path: '/work', method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': job.id, [deadlineHeader]: String(Date.now() + timeoutMs), [attemptHeader]: String(job.attempt) },
    body: JSON.stringify({ jobId: job.id, type: job.type, payload: job.payload, attempt: job.attempt }),
  });
  const answer = await res.body.json();
  if (res.statusCode >= 300) throw new Error(`service-a answered ${res.statusCode}`);
  return answer;
};
const breaker = new CircuitBreaker(call, { timeout: timeoutMs, errorThresholdPercentage: 50, resetTimeout: 10_000, volumeThreshold: 20 });
const worker = new Worker('jobs', async (job) => breaker.fire({ id: job.id ?? '', type: job.data.type, payload: job.data.payload, attempt: job.attemptsMade + 1 }),
  { connection: { host: '127.0.0.1', port: redisPort }, concurrency: 64 });
// Ready once the worker is connected: the benchmark polls this before it sends load.
createServer((_req, res) => res.writeHead(worker.isRunning() ? 200 : 503).end()).listen(Number(process.env.READY_PORT), '127.0.0.1');
process.once('SIGTERM', () => { void worker.close().then(() => pool.close()).then(() => process.exit(0)); });
