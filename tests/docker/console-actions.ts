// The console's actions in compose: the autoscaler recreated with docker-compose.admin.yml (as
// `make compose-env ADMIN=1` has every docker-compose command do), then, with the token, a breaker
// forced open and given back and a process fault set and cleared through the console container,
// which passes them to the admin API at http://autoscaler:9467. The admin API answers on its
// published port too; a wrong token is refused.
import { randomBytes } from 'node:crypto';
import { waitFor } from '#devenv/nats-server.ts';
import { expect, run, urls } from './stack-access.ts';

type Board = { snapshot: { circuits: Array<{ name: string; state: string }> }; faults: Array<{ target: string; fault: string; by: string }> };

export async function checkConsoleActions(): Promise<void> {
  const token = randomBytes(24).toString('hex');
  const files = ['-f', 'docker-compose.yml', '-f', 'docker-compose.admin.yml'];
  console.log('   $ docker-compose -f docker-compose.yml -f docker-compose.admin.yml up -d --no-deps autoscaler');
  const up = await run('docker-compose', [...files, 'up', '-d', '--no-deps', 'autoscaler'], { env: { ADMIN_TOKEN: token } });
  expect(up.code === 0, `recreating the autoscaler with the admin API should succeed (exit ${up.code})`);
  const act = (route: string, body: unknown, auth = token) => fetch(`${urls.console}${route}`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${auth}` }, body: JSON.stringify(body),
  });
  const board = async () => (await (await fetch(`${urls.console}/api/board`)).json()) as Board;
  await waitFor(async () => ((await fetch(`${urls.console}/api/session`, { headers: { authorization: `Bearer ${token}` } })).ok ? true : undefined), 90_000, () => 'the console to accept the token through the admin API', 500);
  const wrong = await act('/api/breakers/open', { name: 'worker-fast->service-a' }, 'not-the-token-0123456789');
  expect(wrong.status === 401, `a wrong token should get 401 from the admin API, got ${wrong.status}`);

  const breaker = 'worker-fast->service-a';
  const opened = await act('/api/breakers/open', { name: breaker });
  expect(opened.ok, `forcing ${breaker} open through the console should succeed (HTTP ${opened.status}: ${await opened.text()})`);
  await waitFor(async () => ((await board()).snapshot.circuits.find((c) => c.name === breaker)?.state === 'open' ? true : undefined), 30_000, () => `${breaker} to show open on the board`, 500);
  expect((await act('/api/breakers/auto', { name: breaker })).ok, `${breaker} should go back to automatic`);
  await waitFor(async () => ((await board()).snapshot.circuits.find((c) => c.name === breaker)?.state === 'closed' ? true : undefined), 30_000, () => `${breaker} to close again`, 500);

  const set = await act('/api/chaos', { target: 'service-c', fault: 'latency', params: 'ms=50', durationMs: 60_000 });
  expect(set.ok, `a fault set through the console should be accepted (HTTP ${set.status}: ${await set.text()})`);
  const fault = await waitFor(async () => (await board()).faults.find((f) => f.target === 'service-c' && f.fault === 'latency'), 30_000, () => 'the fault on the board', 500);
  expect(fault.by.startsWith('admin-api'), `the fault should be recorded as the admin API's act, by: ${fault.by}`);
  const cleared = (await (await act('/api/chaos/clear', { target: 'service-c', fault: 'latency' })).json()) as { cleared?: unknown[] };
  expect(cleared.cleared?.length === 1, `clearing through the console should clear that fault: ${JSON.stringify(cleared)}`);
  const published = await fetch(`http://127.0.0.1:${process.env.TPS_ADMIN_PORT ?? 9467}/admin/chaos`, { headers: { authorization: `Bearer ${token}` } });
  expect(published.ok, `the admin API should answer on its published port (HTTP ${published.status})`);
  console.log(`   with the token: ${breaker} forced open and back, latency on service-c set and cleared, through the console; the admin API on 127.0.0.1:${process.env.TPS_ADMIN_PORT ?? 9467}`);
}
