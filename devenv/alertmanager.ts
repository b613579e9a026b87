// A real Alertmanager for a test (Debian's prometheus-alertmanager): native mode's configuration
// and command line (monitoring/native.ts) under `dir`, on a free port; stopped with SIGTERM,
// waiting for it to exit.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { alertmanagerArgs, writeAlertmanagerConfig } from '#monitoring/native.ts';
import { requireBinary } from '#platform/binaries.ts';
import { waitFor } from './nats-server.ts';
import { unusedPort } from './ports.ts';

export type TestAlertmanager = { url: string; stop: () => Promise<void> };

export async function startAlertmanager(dir: string): Promise<TestAlertmanager> {
  const binary = requireBinary('prometheus-alertmanager', 'Run `scripts/bootstrap.sh --with-prometheus`.');
  const port = await unusedPort();
  const url = `http://127.0.0.1:${port}`;
  // Its webhook points at a console nobody runs here: only its API is used.
  const child = spawn(binary, alertmanagerArgs(writeAlertmanagerConfig(dir, 'http://127.0.0.1:9'), path.join(dir, 'data'), port), { stdio: 'ignore' });
  await waitFor(() => fetch(`${url}/-/ready`).then((r) => r.ok || undefined, () => undefined), 30_000, () => `Alertmanager ready at ${url}`);
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM'); });
    },
  };
}
