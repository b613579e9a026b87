// How our processes resolve the names they connect to (platform/dns.ts): the hosts file, then DNS
// queries with a deadline, on the event loop. getaddrinfo (libuv's thread pool, four threads)
// could not be abandoned: Node waits for one in flight when it exits, and while lookups hang
// everything else on the pool waits. In Docker, a stopped container's name left unanswered (no
// outside DNS) took 10 s a lookup: a role stopped after NATS went took as long to exit, and
// service-a's calls to a stopped service-b held the pool until its span exports timed out.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { startDnsServer, withResolvConf } from '#devenv/dns-server.ts';
import { startNatsServer, waitFor } from '#devenv/nats-server.ts';
import { startOtlpReceiver } from '#devenv/otlp-receiver.ts';
import { provisioned } from '#devenv/roles.ts';
import { startRoleProcess } from '#devenv/role-process.ts';
import { lookupVia, resolveHost } from '#platform/dns.ts';
import { Pool } from '#platform/http/undici-pool.ts';

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

it('serves as a socket\'s lookup: net and undici connect to a name DNS gives', async () => {
  const dns = await startDnsServer({ names: { 'hop.test': '127.0.0.1' } });
  cleanups.push(() => dns.close());
  const http = createServer((_req, res) => res.end('hop'));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => http.close(resolve)));
  const port = (http.address() as AddressInfo).port;
  const lookup = lookupVia({ servers: [dns.address] });
  const pool = new Pool(`http://hop.test:${port}`, { connect: { lookup } });
  cleanups.push(() => pool.close());
  const answer = await pool.request({ path: '/', method: 'GET' });
  expect(await answer.body.text()).toBe('hop');
  // One address of the family asked for, or every address (net's family selection asks so).
  const asked = (options: object) => new Promise((resolve) => lookup('hop.test', options, (err, address, family) => resolve(err ? (err as NodeJS.ErrnoException).code : [address, family])));
  expect(await asked({})).toEqual(['127.0.0.1', 4]);
  expect(await asked({ all: true })).toEqual([[{ address: '127.0.0.1', family: 4 }], undefined]);
  expect(await asked({ family: 6 })).toBe('ENOTFOUND');
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

it("a hop whose next hop's name DNS leaves unanswered still exports its spans", async () => {
  // What the compose stack met with service-b stopped: service-a's connects to it waited 10 s each
  // in getaddrinfo, on libuv's four threads, and the lookup of `jaeger` (running) for its span
  // exports queued behind them: the exports timed out, the traces of the failure lost.
  const server = await startNatsServer();
  cleanups.push(() => server.dispose());
  await (await provisioned(server.url)).close();
  const receiver = await startOtlpReceiver();
  cleanups.push(() => receiver.close());
  const dns = await startDnsServer({ bindTo: '127.83.0.55:53' });
  cleanups.push(() => dns.close());
  dns.silence();
  // jaeger.test is in the hosts file; service-b.test is DNS's to answer, and it never does.
  const { wrap, dispose } = withResolvConf('127.83.0.55', 30, ['127.0.0.1 jaeger.test']);
  cleanups.push(dispose);
  const role = startRoleProcess('service-a', {
    ...process.env, NATS_URL: server.url, HTTP_PORT: '0', SERVICE_B_URL: 'http://service-b.test:8082',
    OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url.replace('127.0.0.1', 'jaeger.test'), OTEL_BSP_SCHEDULE_DELAY: '50',
  }, { wrap });
  cleanups.push(() => role.kill());
  const listening = await waitFor(() => role.lines.find((l) => l.msg === 'listening'), 20_000, () => `service-a to start (stderr: ${role.stderr()})`);
  const url = String(listening.url).replace('0.0.0.0', '127.0.0.1');
  const work = (type: string, jobId: string, traceId: string) => fetch(`${url}/work`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'tps-deadline': String(Date.now() + 20_000), traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    body: JSON.stringify({ attempt: 1, jobId, type }),
  });
  // Eight calls that need service-b.test: more connects than the thread pool has threads.
  const stuck = Array.from({ length: 8 }, (_, i) => work('fast.lookup', `j-b-${i}`, `${'b'.repeat(30)}${String(i).padStart(2, '0')}`).catch(() => undefined));
  await waitFor(() => (dns.queries.some((q) => q.endsWith('service-b.test')) ? true : undefined), 10_000, () => 'service-a to ask for service-b.test');
  // Then one that needs only service-a: its span reaches the receiver at jaeger.test.
  const traceId = 'e'.repeat(32);
  expect((await work('fast.echo', 'j-echo', traceId)).status).toBe(200);
  await waitFor(() => (receiver.trace(traceId).some((s) => s.service === 'service-a') ? true : undefined), 10_000, () => `service-a's span of the fast.echo call exported (spans received: ${receiver.spans.length})`);
  await Promise.all(stuck);
}, 60_000);

it('a scrape of every role reads the ones that answer while others\' names go unanswered', async () => {
  // What `tps status` and the console met in compose with containers stopped: every name was
  // first looked up by getaddrinfo (all of a stopped container's 10 s), then fetched (another
  // lookup, holding a thread past the scrape's 2 s), so the roles still up went unread too.
  const metrics = createServer((_req, res) => res.end('process_resident_memory_bytes 1048576\n'));
  await new Promise<void>((resolve) => metrics.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => metrics.close(resolve)));
  const dns = await startDnsServer({ bindTo: '127.83.0.56:53' });
  cleanups.push(() => dns.close());
  dns.silence();
  const { wrap, dispose } = withResolvConf('127.83.0.56', 30, ['127.0.0.1 alive.test']);
  cleanups.push(dispose);
  const collect = new URL('../operator/status/collect.ts', import.meta.url).href;
  const targets = [
    ...Array.from({ length: 6 }, (_, i) => ({ role: `gone-${i}`, url: `http://gone-${i}.test:8081` })),
    { role: 'alive', url: `http://alive.test:${(metrics.address() as AddressInfo).port}` },
  ];
  const script = `
    import { scrapeAll } from ${JSON.stringify(collect)};
    for (let round = 1; round <= 2; round++) {
      const alive = (await scrapeAll(${JSON.stringify(targets)})).find((s) => s.target.role === 'alive');
      console.log(JSON.stringify({ round, error: alive?.error ?? null, samples: alive?.samples.length ?? 0 }));
    }`;
  const out = runScript(wrap, script);
  // Each round takes a scrape's 2 s at most; a lookup of a gone name, 30 s.
  await waitFor(() => (out().includes('"round":2') ? true : undefined), 15_000, () => `two rounds of scrapes (so far: ${out()})`);
  expect(out().trim().split('\n').map((l) => JSON.parse(l))).toEqual([{ round: 1, error: null, samples: 1 }, { round: 2, error: null, samples: 1 }]);
}, 40_000);

it("the console's calls to the admin API and to Jaeger say a name went unanswered, not that they timed out", async () => {
  // In compose the admin API and Jaeger are other containers. Through fetch (getaddrinfo) a stopped
  // one's name held a thread of libuv's four past the call's own limit, and the page read only
  // "This operation was aborted"; now the name gets the call's 2 s of DNS and the page says so.
  const dns = await startDnsServer({ bindTo: '127.83.0.57:53' });
  cleanups.push(() => dns.close());
  dns.silence();
  const { wrap, dispose } = withResolvConf('127.83.0.57', 30);
  cleanups.push(dispose);
  const module = (file: string) => JSON.stringify(new URL(`../services/console/${file}`, import.meta.url).href);
  const script = `
    import { adminClient } from ${module('admin-client.ts')};
    import { jaegerTracesOfJob } from ${module('jaeger-traces.ts')};
    const admin = await adminClient('http://admin.test:9467').call('GET', '/admin/breakers', 'Bearer x').then(() => 'answered', (err) => err.code + ': ' + err.message);
    const jaeger = await jaegerTracesOfJob('http://jaeger.test:16686', 'job-1');
    console.log(JSON.stringify({ admin, jaeger }));`;
  const out = runScript(wrap, script);
  await waitFor(() => (out().includes('"jaeger"') ? true : undefined), 20_000, () => `both calls to end (so far: ${out()})`);
  const { admin, jaeger } = JSON.parse(out().trim().split('\n').at(-1) ?? '{}') as { admin: string; jaeger: { error?: string } };
  expect(admin).toMatch(/^ADMIN_API_UNAVAILABLE: .*\(http:\/\/admin\.test:9467: cannot resolve "admin\.test": no answer from DNS within 2 s\)/);
  expect(jaeger.error).toMatch(/Jaeger's query API at http:\/\/jaeger\.test:16686 did not answer \(cannot resolve "jaeger\.test": no answer from DNS within 2 s\)/);
}, 40_000);

/** Runs an ES module script in a Node child under `wrap` (a mount namespace of its own); its output so far. */
function runScript(wrap: readonly string[], script: string): () => string {
  const [command, ...args] = wrap;
  const child = spawn(command!, [...args, process.execPath, '--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  return () => out;
}
