// The `tps` command as an operator meets it: usage, clear errors, exit codes.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type NatsServerHandle } from '#devenv/nats-server.ts';
import { tps } from '#devenv/cli.ts';

let server: NatsServerHandle;
beforeAll(async () => { server = await startNatsServer(); });
afterAll(async () => { await server?.dispose(); });

const noStack = /\n\s+at .+:\d+:\d+/;

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

describe('usage', () => {
  it('lists commands, and exits 2 on an unknown command or role', async () => {
    const help = await tps(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/usage: tps <command>/);
    expect(help.stdout).toMatch(/provision/);
    const unknown = await tps(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
    const noRole = await tps(['run']);
    expect(noRole.code).toBe(2);
    expect(noRole.stderr).toMatch(/which role\? One of: .*ingress/);
    const badFlag = await tps(['provision', '--bogus']);
    expect(badFlag.code).toBe(2);
    // One sentence, not node's advice about positional arguments the command does not take.
    expect(badFlag.stderr).toBe("tps: Unknown option '--bogus'\nRun `tps provision --help` for usage.\n");
    // A negative number is the flag's value, refused by the command's own rule (node reads it as an option).
    const negative = await tps(['scale', 'fast', '--replicas', '-1'], { NATS_URL: server.url });
    expect([negative.code, negative.stderr.split('\n')[0]]).toEqual([2, 'tps: replicas of the fast pool must be a whole number from 1 to 8, got "-1"']);
    const runHelp = await tps(['run', '--help']);
    expect(runHelp.stdout).toMatch(/ingress .*port 8080/);
  });

  it('says what is wrong with a flag in the words of its value: missing, not a number, out of range', async () => {
    const firstLine = async (args: string[]) => { const r = await tps(args, { NATS_URL: server.url }); return [r.code, r.stderr.split('\n')[0]]; };
    expect(await firstLine(['tune', 'breaker.error-percent'])).toEqual([2, 'tps: --values is required']);
    expect(await firstLine(['dlq', 'list', '--limit', 'x'])).toEqual([2, 'tps: --limit must be a number (got "x")']);
    expect(await firstLine(['status', '--interval', '0'])).toEqual([2, 'tps: --interval must be at least 0.2 (got "0")']);
    expect(await firstLine(['quiz', '--seed', '99999999999'])).toEqual([2, 'tps: --seed must be at most 2147483648 (got "99999999999")']);
  });
});

describe('failing at start', () => {
  it('names every bad variable and exits 1 without a stack trace', async () => {
    const r = await tps(['run', 'ingress'], { FAST_QUEUE_CAPACITY: 'abc', HTTP_PORT: 'x', RATE_LIMIT_RPS: '-1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Invalid configuration \(3 problems\)/);
    expect(r.stderr).toContain('FAST_QUEUE_CAPACITY="abc"');
    expect(r.stderr).toContain('HTTP_PORT="x"');
    expect(r.stderr).toContain('RATE_LIMIT_RPS="-1"');
    expect(r.stderr).not.toMatch(noStack);
  });

  it('says clearly when NATS cannot be reached', async () => {
    const port = await closedPort();
    const r = await tps(['run', 'ingress'], { NATS_URL: `nats://127.0.0.1:${port}`, NATS_CONNECT_TIMEOUT_MS: '500', HTTP_PORT: '0' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`Cannot reach NATS at nats://127.0.0.1:${port}`));
    expect(r.stderr).not.toMatch(noStack);
  });

  it('says to provision when the topology is missing', async () => {
    const r = await tps(['run', 'ingress'], { NATS_URL: server.url, HTTP_PORT: '0' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/missing stream JOBS_FAST, stream JOBS_SLOW.*Run `tps provision`/);
  });
});

describe('provision', () => {
  it('creates the topology, then reports everything unchanged', async () => {
    const first = await tps(['provision'], { NATS_URL: server.url });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/created\s+stream\s+JOBS_FAST/);
    const second = await tps(['provision', '--json'], { NATS_URL: server.url });
    const actions = JSON.parse(second.stdout) as Array<{ action: string }>;
    expect(actions.length).toBeGreaterThan(5);
    expect(actions.every((a) => a.action === 'unchanged')).toBe(true);
  });
});
