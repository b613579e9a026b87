// The Andon cord, end to end with the real parts: a native stack whose supervisor started
// Prometheus (the handbook's alert rules, evaluated every second here) and Debian's Alertmanager
// (alertmanager/alertmanager.yml, routed to the console), and the console in Debian's chromium. A
// breaker that keeps opening fires TpsCircuitFlapping; the board shows it at the top with its
// handbook text and runbook; acknowledging it on the page (signed in, who and why) is a silence in
// Alertmanager on exactly that alert, which the board then shows as acknowledged. The board's lines
// come from that Prometheus.
import { expect, it } from 'vitest';
import { useConsole } from '#devenv/browser.ts';


const token = 'alerts-test-token-0123456789';
const breaker = 'worker-fast->service-a';
// Prometheus (and with it Alertmanager) evaluating every second; no tracing, not needed here.
const c = useConsole(token, { TPS_MONITORING: 'auto', TPS_SCRAPE_INTERVAL: '1s', OTEL_SDK_DISABLED: 'true' });
const { text } = c;

const admin = (route: string, body: unknown) => fetch(`${c.stack.url('admin')}${route}`, {
  method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body),
});

it('draws the board\'s lines from Prometheus, reaching back before the console\'s first sample, and says so', async () => {
  // Prometheus has scraped the roles for over 10 s (one step of the lines) before the board first
  // opens: it scrapes every second, so 12 samples span 11 s.
  const samples = `${c.stack.url('prometheus')}/api/v1/query?query=${encodeURIComponent('count_over_time(tps_queue_depth{pool="fast"}[1h])')}`;
  await expect.poll(async () => Number(((await (await fetch(samples)).json()) as { data: { result: Array<{ value: [number, string] }> } }).data.result[0]?.value[1] ?? 0), { timeout: 40_000 }).toBeGreaterThanOrEqual(12);
  const opened = Date.now();
  await c.page.goto(c.stack.url('console'));
  // The lines come from Prometheus, so they reach back before the console's first sample.
  expect(await c.page.getByTestId('history-source').getAttribute('data-source')).toBe('prometheus');
  expect(await text('history-source')).toBe(`Lines: Prometheus at ${c.stack.url('prometheus')} (the last 10 minutes, every 10 s, 1-minute rates), then this console's own points.`);
  const board = await (await fetch(`${c.stack.url('console')}/api/board`)).json() as { history: Array<{ at: number; pools: Record<string, { capacity: number }> }> };
  expect(board.history[0]?.at).toBeLessThan(opened);
  expect(board.history[0]?.pools.fast?.capacity).toBe(Number(await (await fetch(c.stack.url('ingress') + '/metrics')).text().then((t) => /^tps_queue_capacity\{pool="fast"\} (\d+)/m.exec(t)?.[1])));
}, 60_000);

it('shows a fired alert at the top of the board with its handbook text, and an acknowledgement on the page silences it, saying who and why', async () => {
  // Prometheus sends its alerts to this run's Alertmanager.
  await expect.poll(async () => {
    const body = await (await fetch(`${c.stack.url('prometheus')}/api/v1/alertmanagers`)).json() as { data: { activeAlertmanagers: Array<{ url: string }> } };
    return body.data.activeAlertmanagers.map((a) => new URL(a.url).port);
  }, { timeout: 30_000 }).toEqual([new URL(c.stack.url('alertmanager')).port]);
  await c.page.goto(c.stack.url('console'));
  await expect.poll(() => text('alerts-none'), { timeout: 20_000 }).toMatch(/^No alert firing \(Alertmanager at /);

  // Prometheus has the breaker's openings counted from 0 first: were its first scrape to come after
  // them, increase() would see no increase at all.
  const openings = `${c.stack.url('prometheus')}/api/v1/query?query=${encodeURIComponent(`tps_circuit_transitions_total{circuit="${breaker}",to="open"}`)}`;
  await expect.poll(async () => ((await (await fetch(openings)).json()) as { data: { result: unknown[] } }).data.result.length, { timeout: 30_000 }).toBe(1);
  // A breaker that keeps opening: more than 3 openings within 15 minutes (handbook 6.1).
  for (let i = 0; i < 5; i++) {
    expect((await admin('/admin/breakers/open', { name: breaker })).status).toBe(200);
    expect((await admin('/admin/breakers/close', { name: breaker })).status).toBe(200);
  }
  const row = c.page.locator('[data-alertname="TpsCircuitFlapping"]');
  await expect.poll(() => row.getAttribute('data-state', { timeout: 1_000 }).catch(() => null), { timeout: 60_000 }).toBe('firing').catch(async (err: Error) => {
    const [prometheus, alertmanager] = await Promise.all([`${c.stack.url('prometheus')}/api/v1/alerts`, `${c.stack.url('alertmanager')}/api/v2/alerts`].map((u) => fetch(u).then((r) => r.text(), (e: Error) => e.message)));
    throw new Error(`${err.message}\nPrometheus' alerts: ${prometheus?.slice(0, 800)}\nAlertmanager's: ${alertmanager?.slice(0, 800)}\nthe strip: ${await c.page.getByTestId('alerts-none').textContent({ timeout: 1_000 }).catch(() => '')}`);
  });
  expect(await row.textContent()).toMatch(new RegExp(`MEDIUM\\s+TpsCircuitFlapping \\(circuit ${breaker}\\): Circuit ${breaker} keeps opening and closing[\\s\\S]*handbook 6\\.1[\\s\\S]*Runbook: docs/observability\\.md#circuit-breaker-status`));
  expect(await text('alerts-count')).toBe('1 firing, 0 acknowledged');

  // Read-only: no acknowledging without the token.
  const fingerprint = await row.getAttribute('data-alert') ?? '';
  expect(await row.getByRole('button', { name: 'Acknowledge' }).isVisible()).toBe(false);
  const anonymous = await fetch(`${c.stack.url('console')}/api/alerts/ack`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fingerprint, who: 'mallory', why: 'hush' }) });
  expect(anonymous.status).toBe(401);

  await c.page.getByLabel('Admin token').fill(token);
  await c.page.getByRole('button', { name: 'Sign in' }).click();
  await expect.poll(() => text('mode')).toBe('admin: actions on');
  await row.getByLabel('who acknowledges').fill('alice');
  await row.getByLabel('why').fill('service-a restarts under test; watching it');
  await row.getByRole('button', { name: 'Acknowledge' }).click();
  await expect.poll(() => text('message')).toBe('TpsCircuitFlapping acknowledged by alice: silenced for 2 hours.');
  expect(c.dialogs.at(-1)).toBe('Acknowledge TpsCircuitFlapping as alice? It is silenced for 2 hours: "service-a restarts under test; watching it".');
  await expect.poll(() => c.page.getByTestId(`ack-${fingerprint}`).textContent({ timeout: 1_000 }).catch(() => null), { timeout: 20_000 })
    .toMatch(/^acknowledged by alice \(console\): service-a restarts under test; watching it \(silenced until \d\d:\d\d UTC\)$/);
  expect(await text('alerts-count')).toBe('0 firing, 1 acknowledged');

  // In Alertmanager: one silence on exactly that alert's labels, by whom and why.
  const silences = await (await fetch(`${c.stack.url('alertmanager')}/api/v2/silences`)).json() as Array<{ createdBy: string; comment: string; matchers: Array<{ name: string; value: string }>; status: { state: string } }>;
  expect(silences.filter((s) => s.status.state === 'active').map((s) => [s.createdBy, s.comment, Object.fromEntries(s.matchers.map((m) => [m.name, m.value]))])).toEqual([
    ['alice (console)', 'service-a restarts under test; watching it', { alertname: 'TpsCircuitFlapping', circuit: breaker, severity: 'medium' }],
  ]);
  const refused = await fetch(`${c.stack.url('console')}/api/alerts/ack`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ fingerprint, who: '', why: 'x' }),
  });
  expect([refused.status, ((await refused.json()) as { message: string }).message]).toEqual([400, expect.stringContaining('say who acknowledges')]);
  await c.screenshot('console-alerts');
}, 120_000);
