// A real Prometheus for a test: native mode's command line (monitoring/native.ts) and its folder
// layout under `dir` (config, data/), on a free port, with no scrape targets unless given;
// stopped with SIGTERM, waiting for it to exit.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { nativePrometheusConfig, prometheusArgs, writePrometheusConfig } from '#monitoring/native.ts';
import { requireBinary } from '#platform/binaries.ts';
import { waitFor } from './nats-server.ts';
import { unusedPort } from './ports.ts';

export type TestPrometheus = {
  url: string; dataDir: string; readonly process: ChildProcess; stop: () => Promise<void>;
  /** Stops it and starts it again on the same port and data: it loads blocks moved into its data
   * folder at startup, where a running one waits for its next block reload (up to a minute). */
  restart: () => Promise<void>;
};

/** Starts it and waits until /-/ready answers; `dir` as nativePrometheusDir(stateDir) gives `tps` its native data folder. */
export async function startPrometheus(dir: string, opts: { name?: string } = {}): Promise<TestPrometheus> {
  const binary = requireBinary('prometheus', 'Run `scripts/bootstrap.sh --with-prometheus`.');
  const config = writePrometheusConfig(dir, nativePrometheusConfig(dir, [], { intervalMs: 5_000 }));
  const [port, dataDir] = [await unusedPort(), path.join(dir, 'data')];
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess;
  const start = async () => {
    child = spawn(binary, prometheusArgs(config, dataDir, port), { stdio: 'ignore' });
    await waitFor(() => fetch(`${url}/-/ready`).then((r) => r.ok || undefined, () => undefined), 30_000, () => `Prometheus ${opts.name ?? dir} ready`);
  };
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM'); });
  };
  await start();
  return { url, dataDir, get process() { return child; }, stop, restart: async () => { await stop(); await start(); } };
}
