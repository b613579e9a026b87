// The make targets of the quick start and the handbook, natively, as a user types them in a clone
// whose path has spaces (a clone in "~/My Projects"): make up, a job, make load, the audit command
// its summary prints, make audit, make chaos, make chaos-stop, make status, make down. The
// whole stack runs as `make up` starts it (its own nats-server, the per-role users, .tps/ in the
// clone), on ports moved by TPS_PORT_OFFSET so it sits beside the other tests' stacks.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyProject, type ProjectCopy } from '#devenv/project-copy.ts';
import { postJob } from '#devenv/roles.ts';
import { freeOffset } from '#devenv/stack.ts';
import { defaultPorts } from '#platform/ports.ts';

let copy: ProjectCopy;
let env: NodeJS.ProcessEnv;
let ingress: string;

/** Runs a command in the copy, as a shell in its folder would; its exit status and everything it printed. */
function run(command: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: copy.root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('exit', (code) => resolve({ code, out }));
  });
}
const make = (...args: string[]) => run('make', ['--no-print-directory', ...args]);

beforeAll(async () => {
  copy = copyProject({ folder: 'my clone' });
  const offset = await freeOffset();
  ingress = `http://127.0.0.1:${defaultPorts.ingress + offset}`;
  // What the suite's own environment may name for another stack is left out: this one is make up's.
  // So are what vitest sets for Vite (MODE=test and BASE_URL=/ would be make's MODE and make load's BASE_URL).
  const { NATS_URL: _url, TPS_STATE_DIR: _state, TPS_MODE: _mode, MODE: _make, BASE_URL: _base, ...rest } = process.env;
  env = { ...rest, TPS_PORT_OFFSET: String(offset), TPS_MONITORING: 'off', LOG_LEVEL: 'info' };
}, 60_000);

afterAll(async () => {
  if (!copy) return;
  await make('down');
  rmSync(path.dirname(copy.root), { recursive: true, force: true });
}, 60_000);

describe('make, natively, in a folder whose path has spaces', () => {
  it('runs the quick start and the handbook commands, and stops everything it started', async () => {
    expect(copy.root).toContain(' ');
    const up = await make('up');
    expect(up.out).toContain('Try:');
    expect(up.code, up.out).toBe(0);
    expect((await postJob(ingress, { type: 'fast.echo' })).status).toBe(202);

    const load = await make('load', 'RATE=20', 'DURATION=2s');
    expect(load.code, load.out).toBe(0);
    // The audit command the summary prints works when pasted: the ledger's path quoted for the shell.
    const printed = /check it with `tps audit (.+)`\)/.exec(load.out)?.[1] ?? '';
    expect(printed).toMatch(/^'.*my clone.*\.jsonl'$/);
    const pasted = await run('bash', ['-c', `bin/tps audit ${printed}`]);
    expect(pasted.out).toContain('none lost');
    expect(pasted.code, pasted.out).toBe(0);
    const audit = await make('audit');
    expect(audit.out).toContain('none lost');

    const chaos = await make('chaos');
    expect(chaos.out).toMatch(/service-a: error_rate ratio=1/);
    expect(chaos.code, chaos.out).toBe(0);
    const cleared = await make('chaos-stop');
    expect(cleared.out).toMatch(/cleared service-a/);
    expect((await make('status')).out).toMatch(/Circuit breakers/);

    const down = await make('down');
    expect(down.out).toMatch(/stopped\.$/m);
    expect(down.code, down.out).toBe(0);
    expect(await fetch(`${ingress}/healthz`).then(() => 'answers', () => 'refused')).toBe('refused');
  }, 180_000);
});
