// How a role resolves its NATS server's name (platform/nats/resolve-host.ts): by DNS queries with
// a deadline, on the event loop. nats.js's own lookup (getaddrinfo on libuv's thread pool) could
// not be abandoned, and Node waits for one in flight when it exits: a role stopped after NATS'
// name had stopped answering (Docker's resolver, the `nats` container stopped, no outside DNS)
// took as long as the lookup to exit, 10 s in Docker, after its shutdown was done.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startDnsServer, withResolvConf } from '#devenv/dns-server.ts';
import { startNatsServer, waitFor } from '#devenv/nats-server.ts';
import { provisioned } from '#devenv/roles.ts';
import { startRoleProcess } from '#devenv/role-process.ts';
import { resolveHost } from '#platform/nats/resolve-host.ts';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('asks DNS for the name and gives its addresses; an address is not looked up', async () => {
  const dns = await startDnsServer({ names: { 'nats.test': '198.18.7.7' } });
  cleanups.push(() => dns.close());
  expect(await resolveHost('nats.test', { servers: [dns.address] })).toEqual(['198.18.7.7']);
  expect(dns.queries.sort()).toEqual(['A nats.test', 'AAAA nats.test']);
  expect(await resolveHost('127.0.0.1', { servers: [dns.address] })).toEqual(['127.0.0.1']);
  expect(dns.queries).toHaveLength(2);
});

it('reads the hosts file first, as getaddrinfo does, and asks DNS nothing for a name there', async () => {
  const dns = await startDnsServer();
  cleanups.push(() => dns.close());
  dns.silence();
  const dir = mkdtempSync(join(tmpdir(), 'tps-hosts-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const hostsFile = join(dir, 'hosts');
  writeFileSync(hostsFile, '127.0.0.1 localhost\n# 198.18.9.8 nats.test\n::1 nats.test\n198.18.9.9  other NATS.test # broker\n');
  expect(await resolveHost('nats.test', { servers: [dns.address], hostsFile })).toEqual(['198.18.9.9', '::1']);
  expect(dns.queries).toEqual([]);
});

it('gives up at its deadline when DNS does not answer, saying so', async () => {
  const dns = await startDnsServer();
  cleanups.push(() => dns.close());
  dns.silence();
  await expect(resolveHost('nats', { servers: [dns.address], deadlineMs: 300 })).rejects.toThrow(
    'cannot resolve "nats": no answer from DNS within 0.3 s',
  );
});

it('a role stopped after its NATS server and that server\'s name went away exits, DNS lookup or not', async () => {
  const server = await startNatsServer();
  cleanups.push(() => server.dispose());
  await (await provisioned(server.url)).close();
  // The role's own /etc/resolv.conf (a mount namespace of its own) names our DNS server, on port
  // 53 of a loopback address nothing else uses. A lookup would wait 30 s for an answer.
  const dns = await startDnsServer({ names: { 'nats.test': '127.0.0.1' }, bindTo: '127.83.0.53:53' });
  cleanups.push(() => dns.close());
  const { wrap, dispose } = withResolvConf('127.83.0.53', 30);
  cleanups.push(dispose);
  const url = server.url.replace('127.0.0.1', 'nats.test');
  const role = startRoleProcess('service-c', { ...process.env, NATS_URL: url, HTTP_PORT: '0', OTEL_SDK_DISABLED: 'true', SHUTDOWN_GRACE_MS: '5000' }, { wrap });
  cleanups.push(() => role.kill());
  await waitFor(() => role.lines.find((l) => l.msg === 'service-c started'), 20_000, () => `service-c to start (stderr: ${role.stderr()})`);
  expect(dns.queries).toContain('A nats.test');

  dns.silence();
  await server.dispose();
  await waitFor(() => role.lines.find((l) => l.msg === 'disconnected from NATS; reconnecting'), 10_000, () => 'service-c to see NATS gone');
  // Its reconnect asks for the name again, and gets no answer.
  const asked = dns.queries.length;
  await waitFor(() => dns.queries.length > asked || undefined, 10_000, () => 'service-c to ask for the name again');
  role.stop();
  // Shutdown with NATS gone takes at most its 2 s cap; a lookup in flight held the exit to 30 s.
  const exit = await Promise.race([role.exited, new Promise((resolve) => setTimeout(() => resolve('still running after 15 s'), 15_000).unref())]);
  // Exit 1: its drain failed, NATS being down (role-shutdown.test.ts), and it said "stopped".
  expect(exit, role.stderr()).toBe(1);
  expect(role.lines.at(-1)?.msg).toBe('stopped');
}, 40_000);
