// Trace-id exemplars end to end on the Prometheus side: a role's registry (OpenMetrics) observed
// with a trace id, served as every role's /metrics serves it (OpenMetrics only to a scraper that
// asks for it), scraped by a real Prometheus started with native mode's command line, comes back
// from the exemplar API under the label Grafana links to Jaeger (trace_id). That command line
// leaves the lifecycle API off: nobody can stop or reload Prometheus over HTTP.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { requireBinary } from '#platform/binaries.ts';
import { createRegistry, histogram, metrics } from '#platform/metrics.ts';
import { exposition } from '#platform/metrics-exposition.ts';
import { nativePrometheusConfig, prometheusArgs, writePrometheusConfig, writeScrapeTargets } from '#monitoring/native.ts';
import { waitFor } from '#devenv/nats-server.ts';
import { unusedPort } from '#devenv/ports.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-exemplars-'));
let prometheus: ChildProcess | undefined;
let server: http.Server | undefined;
afterAll(async () => {
  prometheus?.kill('SIGTERM');
  if (prometheus && prometheus.exitCode === null) await new Promise((resolve) => prometheus?.once('exit', resolve));
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  rmSync(dir, { recursive: true, force: true });
});

async function listen(handler: http.RequestListener): Promise<number> {
  server = http.createServer(handler);
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

it('a latency observation\'s trace id is stored by Prometheus as a trace_id exemplar', async () => {
  const registry = createRegistry({ defaults: false });
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  histogram(registry, metrics.jobProcessing).observe({ pool: 'fast', type: 'fast.echo' }, 0.012, traceId);
  const target = await listen((req, res) => {
    void exposition(registry, req.headers.accept).then(({ contentType, text }) => res.writeHead(200, { 'content-type': contentType }).end(text));
  });

  const port = await unusedPort();
  writeScrapeTargets(dir, [{ job: 'worker-fast', port: target }]);
  const config = writePrometheusConfig(dir, nativePrometheusConfig(dir, ['worker-fast'], { intervalMs: 1000 }));
  prometheus = spawn(requireBinary('prometheus', 'Run `scripts/bootstrap.sh --with-prometheus`.'), prometheusArgs(config, path.join(dir, 'data'), port), { stdio: 'ignore' });

  const url = `http://127.0.0.1:${port}/api/v1/query_exemplars?query=tps_job_processing_seconds_bucket&start=0&end=${Date.now() / 1000 + 60}`;
  type Exemplars = { data?: Array<{ seriesLabels: Record<string, string>; exemplars: Array<{ labels: Record<string, string>; value: string }> }> };
  const found = await waitFor(async () => {
    // Until it is ready Prometheus answers 503 in plain text.
    const res = await fetch(url).catch(() => undefined);
    const body = res?.ok ? ((await res.json()) as Exemplars) : undefined;
    return body?.data?.length ? body.data : undefined;
  }, 30_000, () => 'Prometheus to scrape the exemplar');
  expect(found[0]?.seriesLabels).toMatchObject({ job: 'worker-fast', pool: 'fast', type: 'fast.echo', le: expect.stringMatching(/^0\.025$/) });
  expect(found[0]?.exemplars[0]).toMatchObject({ labels: { trace_id: traceId }, value: '0.012' });

  for (const endpoint of ['/-/reload', '/-/quit']) {
    const res = await fetch(`http://127.0.0.1:${port}${endpoint}`, { method: 'POST' });
    expect({ endpoint, status: res.status, text: (await res.text()).trim() }).toEqual({ endpoint, status: 403, text: 'Lifecycle API is not enabled.' });
  }
  expect((await fetch(`http://127.0.0.1:${port}/-/ready`)).status).toBe(200);
}, 60_000);
