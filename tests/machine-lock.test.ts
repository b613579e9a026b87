// The turn-taking of the test files that load the whole machine (devenv/machine-turns.ts), between
// real processes: one holder at a time, the next in once it lets go, a holder that died no obstacle.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { holdMachine, releaseMachine } from '#devenv/machine-turns.ts';
import { waitFor } from '#devenv/nats-server.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'tps-machine-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('lets one process hold the machine at a time; a holder that died leaves it to the next', async () => {
  const dir = path.join(root, 'turn');
  await holdMachine(dir, { timeoutMs: 1_000 });
  // Another process asks for it, says when it must wait and when it holds it, then dies holding it.
  const script = `import { holdMachine } from ${JSON.stringify(path.resolve('devenv/machine-turns.ts'))};
    await holdMachine(${JSON.stringify(dir)}, { timeoutMs: 20_000, onWait: () => console.log('waiting') });
    console.log('held');`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await waitFor(() => out.includes('waiting') || undefined, 10_000, () => 'the other process to wait for its turn');
  expect(out).not.toContain('held');
  releaseMachine(dir);
  await waitFor(() => out.includes('held') || undefined, 10_000, () => 'the other process to hold the machine');
  await exited;
  // It died without letting go: the machine is free for the next all the same.
  await holdMachine(dir, { timeoutMs: 2_000 });
  releaseMachine(dir);
}, 30_000);
