// The turn-taking of the test files that load the whole machine (devenv/machine-turns.ts), between
// real processes: one holder at a time, the next in once it lets go, a holder that died no obstacle;
// and the CPU first for what the holder starts (devenv/turn-priority.ts).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { holdMachine, releaseMachine } from '#devenv/machine-turns.ts';
import { favouredNice, favourWhatThisProcessStarts, turnMarkVariable } from '#devenv/turn-priority.ts';
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

/** A process's nice and its autogroup's (as /proc/<pid>/autogroup says it: "/autogroup-N nice K"). */
function priorities(pid: number): { nice: number; group: number } {
  const group = Number(/nice (-?\d+)/.exec(readFileSync(`/proc/${pid}/autogroup`, 'utf8'))?.[1]);
  return { nice: os.getPriority(pid), group };
}

it('gives what the file whose turn it is starts the CPU first, a process in a session of its own too, and nothing else (root)', async () => {
  const sleeper = (env: NodeJS.ProcessEnv) => spawn('sleep', ['60'], { env, detached: true, stdio: 'ignore' });
  const before = sleeper(process.env);
  // Another file's process (started before this one's priority rose, whose nice it would inherit):
  // its mark names another pid, whose digits begin with this one's.
  const other = sleeper({ ...process.env, [turnMarkVariable]: `${process.pid}1` });
  const favour = favourWhatThisProcessStarts((line) => { throw new Error(line); });
  const ownGroup = priorities(process.pid).group;
  try {
    // Started after the turn began, in a session of its own as the supervisor starts a role.
    const mine = sleeper(process.env);
    const raised = await waitFor(() => (priorities(mine.pid ?? 0).group === favouredNice ? priorities(mine.pid ?? 0) : undefined), 10_000,
      () => `the marked process to be raised: ${JSON.stringify(priorities(mine.pid ?? 0))}`, 100);
    expect(raised).toEqual({ nice: favouredNice, group: favouredNice });
    expect(priorities(process.pid).nice).toBe(favouredNice);
    // Not this session's group (the other files share it), nor what was started before or by another file.
    expect(priorities(process.pid).group).toBe(ownGroup);
    expect(priorities(other.pid ?? 0)).toEqual({ nice: 0, group: 0 });
    expect(priorities(before.pid ?? 0)).toEqual({ nice: 0, group: 0 });
    mine.kill();
  } finally {
    favour.stop();
    for (const p of [before, other]) p.kill();
  }
  expect(os.getPriority(process.pid)).toBe(0);
  expect(process.env[turnMarkVariable]).toBeUndefined();
}, 30_000);
