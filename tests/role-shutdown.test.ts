// A role stopped while NATS is gone still ends. Its drain of the connection fails at once (nothing
// to drain to; it used to wait out the grace period for the connection to come back), and was left at that: the client's reconnect loop kept the process alive after
// it had logged "stopped", until something killed it. A worker also waited out its whole grace
// period for pull requests that could not end before the connection came back. And whatever else
// a process leaves open after a signal's shutdown gets the grace period, then the process exits.
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { startDnsServer, withResolvConf } from '#devenv/dns-server.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { provisioned } from '#devenv/roles.ts';
import { startRoleProcess, type RoleProcess } from '#devenv/role-process.ts';
import { startTcpProxy } from '#devenv/tcp-proxy.ts';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Resolves with the exit code, or with 'still running' once `ms` have passed without one. */
function exitWithin(role: { exited: Promise<number | null> }, ms: number): Promise<number | null | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'still running'>((resolve) => { timer = setTimeout(() => resolve('still running'), ms); });
  return Promise.race([role.exited, deadline]).finally(() => clearTimeout(timer));
}

async function roleWithoutBroker(name: string): Promise<RoleProcess> {
  const server: NatsServerHandle = await startNatsServer();
  cleanups.push(() => server.dispose());
  const nc = await provisioned(server.url);
  await nc.close();
  const role = startRoleProcess(name, { ...process.env, NATS_URL: server.url, HTTP_PORT: '0', LOG_LEVEL: 'info', OTEL_SDK_DISABLED: 'true', SHUTDOWN_GRACE_MS: '5000' });
  cleanups.push(() => role.kill());
  await waitFor(() => role.lines.find((l) => l.msg === `${name} started`), 20_000, () => `${name} to start (stderr: ${role.stderr()})`);
  await server.dispose();
  await waitFor(() => role.lines.find((l) => l.msg === 'disconnected from NATS; reconnecting'), 10_000, () => `${name} to see NATS gone`);
  return role;
}

describe('a role stopped while NATS is down', () => {
  it.each(['service-c', 'worker-fast'])('%s exits after its shutdown, saying which step failed', async (name) => {
    const role = await roleWithoutBroker(name);
    role.stop();
    // Exit 1: a step failed (the drain); it said so, and stopped.
    expect(await exitWithin(role, 30_000)).toBe(1);
    const failed = role.lines.filter((l) => l.msg === 'shutdown step failed');
    expect(failed.map((l) => l.step)).toEqual(['drain NATS']);
    // Failed because the broker is down, not by waiting out its grace period for a connection
    // that would not come back (what a reboot did in compose: every role killed at its stop grace).
    expect((failed[0]?.err as { message?: string } | undefined)?.message).toMatch(/connection to NATS is down/);
    expect(role.lines.at(-1)?.msg).toBe('stopped');
  });
});

describe('a role stopped while its reconnects to NATS hang', () => {
  // What a reboot did in compose: the nats container went first and the roles' attempts to reach
  // it again hung instead of being refused, so a drain waited out its whole grace period for a
  // connection that would not come back, and Docker killed the roles at their stop grace.
  it('fails its drain at once, since the connection is down, instead of waiting for it', async () => {
    const server = await startNatsServer();
    cleanups.push(() => server.dispose());
    const nc = await provisioned(server.url);
    await nc.close();
    // Every connection through a black hole: held open, nothing forwarded, no FIN, no RST.
    const proxy = await startTcpProxy(server.port);
    cleanups.push(() => proxy.close());
    const role = startRoleProcess('service-c', { ...process.env, NATS_URL: proxy.url, HTTP_PORT: '0', LOG_LEVEL: 'info', OTEL_SDK_DISABLED: 'true', SHUTDOWN_GRACE_MS: '5000' });
    cleanups.push(() => role.kill());
    await waitFor(() => role.lines.find((l) => l.msg === 'service-c started'), 20_000, () => `service-c to start (stderr: ${role.stderr()})`);
    proxy.blackhole();
    // Its pings go unanswered; it drops the connection, and each new attempt hangs in the hole.
    await waitFor(() => role.lines.find((l) => l.msg === 'disconnected from NATS; reconnecting'), 20_000, () => 'service-c to find NATS gone');
    role.stop();
    expect(await exitWithin(role, 30_000)).toBe(1);
    const failed = role.lines.filter((l) => l.msg === 'shutdown step failed');
    expect(failed.map((l) => l.step)).toEqual(['drain NATS']);
    expect((failed[0]?.err as { message?: string } | undefined)?.message).toMatch(/connection to NATS is down/);
    // (Its last attempt to reconnect, held open by the black hole, is not ended by nats.js's close:
    // the process then exits at the end of the grace period after its shutdown, saying so.)
    expect(role.lines.some((l) => l.msg === 'stopped')).toBe(true);
  });
});

describe('a process stopped by a signal', () => {
  it('exits soon after its shutdown when something keeps it alive, saying so, whatever its grace period', async () => {
    const lifecycle = new URL('../platform/lifecycle.ts', import.meta.url).href;
    // A lifecycle whose one step succeeds, and an interval nobody clears.
    const script = `
      import { createLifecycle, installSignalHandlers } from ${JSON.stringify(lifecycle)};
      const log = (level) => (obj, msg) => console.log(JSON.stringify({ level, ...(typeof obj === 'string' ? { msg: obj } : { ...obj, msg }) }));
      const logger = { info: log('info'), error: log('error'), warn: log('warn') };
      // A grace period beyond the test's time: what is left after the shutdown gets at most 2 s.
      const life = createLifecycle(logger, { graceMs: 600_000 });
      life.onShutdown('close nothing', () => undefined);
      installSignalHandlers(life, logger);
      setInterval(() => {}, 1_000);
      console.log(JSON.stringify({ msg: 'ready' }));`;
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await waitFor(() => (out.includes('"ready"') ? true : undefined), 10_000, () => `the script to start: ${out}`);
    child.kill('SIGTERM');
    expect(await exitWithin({ exited }, 20_000)).toBe(1);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
    expect(lines.map((l) => l.msg)).toEqual(['ready', 'shutting down', 'stopped', 'still running after shutdown: something kept the process alive; exiting']);
  });

  it('ends by its signal when a DNS lookup is in flight, which process.exit would wait for', async () => {
    // What Docker's stop met: a last export of spans to `jaeger`, stopped at the same time, whose
    // name Docker's resolver forwarded to DNS servers out of reach; the exit waited 10 s for it.
    // Here the script's own /etc/resolv.conf (a mount namespace of its own) names a DNS server that
    // never answers, on port 53 of a loopback address nothing else uses, and allows it 30 s.
    const dns = await startDnsServer({ bindTo: '127.83.0.54:53' });
    cleanups.push(() => dns.close());
    dns.silence();
    const resolvConf = withResolvConf('127.83.0.54', 30);
    cleanups.push(() => resolvConf.dispose());
    const lifecycle = new URL('../platform/lifecycle.ts', import.meta.url).href;
    const script = `
      import { lookup } from 'node:dns';
      import { createLifecycle, installSignalHandlers } from ${JSON.stringify(lifecycle)};
      const log = (level) => (obj, msg) => console.log(JSON.stringify({ level, ...(typeof obj === 'string' ? { msg: obj } : { ...obj, msg }) }));
      const logger = { info: log('info'), error: log('error'), warn: log('warn') };
      const life = createLifecycle(logger, { graceMs: 600_000 });
      installSignalHandlers(life, logger);
      lookup('jaeger.test', () => {});
      console.log(JSON.stringify({ msg: 'ready' }));`;
    const [command, ...args] = resolvConf.wrap;
    const child = spawn(command!, [...args, process.execPath, '--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const ended = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`)));
    await waitFor(() => (out.includes('"ready"') && dns.queries.length > 0 ? true : undefined), 10_000, () => `the script to start its lookup: ${out}`);
    child.kill('SIGTERM');
    // The lookup would answer after 30 s; its shutdown done, the process ends by SIGTERM 2 s later.
    const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('still running after 15 s'), 15_000).unref());
    expect(await Promise.race([ended, timeout]), out).toBe('SIGTERM');
    const last = JSON.parse(out.trim().split('\n').at(-1)!) as { msg: string; active: string[] };
    expect(last.msg).toBe('still running after shutdown: a DNS lookup in flight, which process.exit would wait for; ending by SIGTERM');
    expect(last.active).toContain('GetAddrInfoReqWrap');
  });
});
