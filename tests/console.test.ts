// The console in a real browser (Debian's chromium through playwright-core) against a real stack
// whose supervisor started every role, the console among them, with the admin API on: the board's
// values are those of the roles' /metrics and follow them live; a breaker opened by chaos turns
// red and back; without the admin token no action is possible, and with it a breaker is forced
// open from the page and given back. TPS_CONSOLE_SCREENSHOTS=<folder> saves what docs/console.md shows.
import { jetstreamManager } from '@nats-io/jetstream';
import { expect, it } from 'vitest';
import { useConsole } from '#devenv/browser.ts';
import { tps } from '#devenv/cli.ts';
import { noPrometheus } from '#devenv/lab-runs.ts';
import { feedJobs, postJob } from '#devenv/roles.ts';
import { dlqSequences, injectFault, metricValue } from '#devenv/stack.ts';

const token = 'console-test-token-0123456789';
const breaker = 'worker-fast->service-a';
// The autoscaler, off until the page turns it on, then quick to scale an idle pool down.
const c = useConsole(token, { BREAKER_RESET_MS: '2s', AUTOSCALER_TICK_MS: '1s', AUTOSCALER_DOWN_AFTER_MS: '1s' });
const { text } = c;

const mark = (testid: string) => c.page.getByTestId(testid).getAttribute('data-mark', { timeout: 20_000 });

it('shows the board live: queue and slot figures are those of the roles\' /metrics, and a dead letter appears without a reload', async () => {
  await c.page.goto(c.stack.url('console'));
  await expect.poll(() => text('connection'), { timeout: 20_000 }).toBe('live');
  expect(await text('mode')).toBe('read-only');
  // No Prometheus runs with this stack: the lines are the console's own, and the page says so.
  expect(await c.page.getByTestId('history-source').getAttribute('data-source')).toBe('memory');
  expect(await text('history-source')).toMatch(/^Lines: kept in this console's memory since the first page opened, up to 10 minutes, lost when it restarts \(Prometheus: Prometheus does not answer at /);

  const capacity = await metricValue(c.stack.url('ingress'), /^tps_queue_capacity\{pool="fast"\}/);
  const slots = await metricValue(c.stack.url('worker-fast'), /^tps_worker_slots\{pool="fast"/);
  expect(capacity).toBeGreaterThan(0);
  expect(await text('queue-depth-fast')).toMatch(new RegExp(`^\\d+/${capacity} \\(`));
  expect(await text('workers-busy-fast')).toMatch(new RegExp(`^\\d+/${slots} slots`));
  expect(await text('dlq-fast')).toMatch(/^0\//);

  // A poison job (service-a refuses its payload) is dead-lettered: the page shows it by itself.
  expect((await postJob(c.stack.url('ingress'), { type: 'fast.lookup', payload: { key: 42 } })).status).toBe(202);
  await expect.poll(() => text('dlq-fast'), { timeout: 30_000 }).toMatch(/^1\//);
  expect(await mark('dlq-fast')).toBe('watch');
  expect(await metricValue(c.stack.url('worker-fast'), /^tps_dlq_depth\{pool="fast"\}/)).toBe(1);
  // The queue against its WIP limits, from JetStream: deliveries out against the consumer's own cap.
  const consumer = await (await jetstreamManager(c.stack.nc)).consumers.info('JOBS_FAST', 'workers-fast');
  expect(consumer.config.max_ack_pending).toBeGreaterThan(0);
  await expect.poll(() => text('queue-detail-fast'), { timeout: 20_000 }).toMatch(new RegExp(`^oldest none: empty\\s+· ack pending 0/${consumer.config.max_ack_pending}\\s+· \\d+ pulls? waiting`));
  await c.screenshot('console-board');
}, 90_000);

it('turns a breaker red when chaos makes service-a fail, and green again once the fault is cleared', async () => {
  await injectFault(c.stack, { target: 'service-a', fault: 'error_rate', params: { ratio: 1 } });
  const stop = feedJobs(c.stack.url('ingress'), 'fast.echo', 20);
  try {
    await expect.poll(() => c.page.getByTestId(`breaker-${breaker}`).getAttribute('data-state'), { timeout: 30_000 }).toBe('open');
    expect(await mark(`breaker-state-${breaker}`)).toBe('bad');
    await expect.poll(() => c.page.getByTestId('chaos').textContent(), { timeout: 20_000 }).toMatch(/error_rate on service-a \(ratio=1 status=500\), \d+ (min|s)/);
    await c.screenshot('console-breaker-open');
    await c.stack.chaos.clear('service-a', 'error_rate', 'test');
    await expect.poll(() => c.page.getByTestId(`breaker-${breaker}`).getAttribute('data-state'), { timeout: 30_000 }).toBe('closed');
    expect(await mark(`breaker-state-${breaker}`)).toBe('ok');
    await expect.poll(() => c.page.getByTestId('chaos').textContent(), { timeout: 20_000 }).toMatch(/^no fault active/);
  } finally {
    await stop();
  }
}, 90_000);

it('takes no action without the admin token; signed in, it forces a breaker open from the page and gives it back', async () => {
  // Read-only: no button shows, and the action routes refuse whoever calls them.
  expect(await c.page.locator('button[data-action]').count()).toBeGreaterThan(0);
  expect(await c.page.locator('button[data-action]:visible').count()).toBe(0);
  const action = (headers: Record<string, string>) => fetch(`${c.stack.url('console')}/api/breakers/open`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ name: breaker }),
  });
  const none = await action({});
  expect(none.status).toBe(401);
  expect(((await none.json()) as { code: string }).code).toBe('UNAUTHORIZED');
  expect((await action({ authorization: 'Bearer wrong-token-of-some-length' })).status).toBe(401);
  const foreign = await action({ authorization: `Bearer ${token}`, origin: 'http://evil.example' });
  expect(foreign.status).toBe(403);
  expect(((await foreign.json()) as { code: string }).code).toBe('FORBIDDEN_ORIGIN');
  const page0 = await fetch(c.stack.url('console'));
  expect(page0.headers.get('content-security-policy')).toContain("script-src 'self'");
  expect(await page0.text()).not.toContain(token);

  // A wrong token is refused on the page too.
  await c.page.getByLabel('Admin token').fill('not-the-token-at-all-0000');
  await c.page.getByRole('button', { name: 'Sign in' }).click();
  await expect.poll(() => text('message')).toMatch(/Not signed in: A valid bearer token is required/);
  expect(await text('mode')).toBe('read-only');

  await c.page.getByLabel('Admin token').fill(token);
  await c.page.getByRole('button', { name: 'Sign in' }).click();
  await expect.poll(() => text('mode')).toBe('admin: actions on');
  const row = c.page.getByTestId(`breaker-${breaker}`);
  await row.getByRole('button', { name: 'Force open' }).click();
  await expect.poll(() => text('message')).toBe(`Breaker ${breaker} forced open.`);
  await expect.poll(() => row.getAttribute('data-state'), { timeout: 20_000 }).toBe('open');
  await c.screenshot('console-admin');
  await c.page.getByTestId(`breaker-${breaker}`).getByRole('button', { name: 'Back to automatic' }).click();
  await expect.poll(() => text('message')).toBe(`Breaker ${breaker} back to automatic.`);
  await expect.poll(() => c.page.getByTestId(`breaker-${breaker}`).getAttribute('data-state'), { timeout: 20_000 }).toBe('closed');

  // The pools' levers: slots per worker, and the autoscaler off and on.
  await c.page.locator('input[name="slots-fast"]').fill('20');
  await c.page.getByTestId('workers-busy-fast').locator('xpath=..').getByRole('button', { name: 'Set' }).click();
  await expect.poll(() => text('message')).toMatch(/^fast pool: 20 slots per worker \(was /);
  expect(c.dialogs.at(-1)).toBe('Set the fast pool to 20 slots per worker?');
  await expect.poll(() => metricValue(c.stack.url('worker-fast'), /^tps_worker_slots\{pool="fast"/), { timeout: 20_000 }).toBe(20);
  await expect.poll(() => text('workers-busy-fast'), { timeout: 20_000 }).toMatch(/\/20 slots/);
  expect(await text('autoscaler')).toBe('OFF (manual control)');
  await c.page.getByRole('button', { name: 'Turn on' }).click();
  await expect.poll(() => text('message')).toBe('Autoscaler on.');
  await expect.poll(() => text('autoscaler'), { timeout: 20_000 }).toBe('on');
  // Why it last scaled, from its decision events: the idle fast pool goes down from the 20 slots set above.
  await expect.poll(() => text('decision-fast'), { timeout: 30_000 }).toMatch(/^fast: 20 -> \d+ slots at \d\d:\d\d:\d\d UTC \([\w-]+\): ./);
  await c.page.getByRole('button', { name: 'Turn off' }).click();
  await expect.poll(() => text('autoscaler'), { timeout: 20_000 }).toBe('OFF (manual control)');
}, 90_000);

it('signed in, starts a process fault from the page with its parameters and duration, refuses a bad parameter with its reason, and clears the fault', async () => {
  expect(await text('mode')).toBe('admin: actions on');
  const chaos = c.page.getByTestId('chaos');
  await chaos.locator('select[name="chaos-target"]').selectOption('service-c');
  await chaos.locator('select[name="chaos-fault"]').selectOption('latency');
  await chaos.locator('input[name="chaos-params"]').fill('ms=abc');
  await chaos.getByRole('button', { name: 'Start fault' }).click();
  await expect.poll(() => text('message')).toMatch(/^Refused: .*latency: ms/);
  await chaos.locator('input[name="chaos-params"]').fill('ms=150 jitter=10');
  await chaos.locator('select[name="chaos-duration"]').selectOption({ label: '2 min' });
  await chaos.getByRole('button', { name: 'Start fault' }).click();
  expect(c.dialogs.at(-1)).toBe('Start latency (ms=150 jitter=10) on service-c for 120 s? It ends by itself then, or when you clear it.');
  await expect.poll(() => text('message')).toMatch(/^latency on service-c until \d\d:\d\d:\d\d UTC\.$/);
  // The chaos bucket `tps chaos` reads, recorded as the admin API's act; the board shows it with its time left.
  const [fault] = await c.stack.chaos.list();
  expect(fault).toMatchObject({ target: 'service-c', fault: 'latency', params: { ms: 150, jitter: 10, ratio: 1 }, by: expect.stringMatching(/^admin-api/) });
  expect(Date.parse(fault?.expiresAt ?? '') - Date.parse(fault?.setAt ?? '')).toBe(120_000);
  await expect.poll(() => chaos.textContent(), { timeout: 20_000 }).toMatch(/latency on service-c \(ms=150 jitter=10 ratio=1\), (1 min \d+|2 min 0) s left/);
  await chaos.locator('[data-fault="service-c.latency"]').getByRole('button', { name: 'Clear' }).click();
  await expect.poll(() => text('message')).toBe('Cleared latency on service-c.');
  expect(await c.stack.chaos.list()).toEqual([]);
  await expect.poll(() => chaos.textContent(), { timeout: 20_000 }).toMatch(/^no fault active/);
}, 60_000);

it('finds dead letters by job id, replays exactly the chosen entries after a preview, and purges with a confirmation that names the count', async () => {
  // Three more poison jobs (service-a refuses the payload): with the first test's, four in one group.
  const before = await dlqSequences(c.stack.nc);
  const poison = [];
  for (let i = 0; i < 3; i++) poison.push(String((await postJob(c.stack.url('ingress'), { type: 'fast.lookup', payload: { key: 42 } })).json.id));
  await expect.poll(async () => (await dlqSequences(c.stack.nc)).length, { timeout: 30_000 }).toBe(before.length + 3);
  const [first, second, third] = (await dlqSequences(c.stack.nc)).filter((seq) => !before.includes(seq)) as [number, number, number];

  await c.page.goto(`${c.stack.url('console')}/dlq`);
  await expect.poll(() => text('mode')).toBe('admin: actions on'); // the tab's sign-in holds
  expect(await c.page.getByTestId('dlq-groups').textContent()).toMatch(/fast\s*fast\.lookup\s*INVALID_PAYLOAD\s*4/);
  await c.page.getByTestId('dlq-search').fill(poison[1] ?? '');
  await c.page.getByRole('button', { name: 'Search' }).click();
  await expect.poll(() => text('dlq-found')).toBe('1 entry match.');
  expect(await c.page.getByTestId('dlq-entries').textContent()).toContain(poison[1]);
  await c.page.getByTestId('dlq-entries').getByRole('link').first().click();
  await expect.poll(() => c.page.getByTestId('dlq-entry').textContent()).toMatch(/INVALID_PAYLOAD[\s\S]*"key": 42/);
  expect(await c.page.getByTestId('dlq-entry').textContent()).toContain(poison[1]);
  await c.screenshot('console-dlq-entry');

  // Two of the four chosen: the preview lists them, the replay sends exactly those.
  await c.page.goto(`${c.stack.url('console')}/dlq`);
  for (const seq of [first, third]) await c.page.getByLabel(`choose entry ${seq}`).check();
  await c.page.getByRole('button', { name: 'Preview replay' }).click();
  await expect.poll(() => text('dlq-result')).toMatch(new RegExp(`A replay would send 2 of 2 again[\\s\\S]*${first}: fast.lookup \\(INVALID_PAYLOAD\\), would replay[\\s\\S]*${third}:`));
  expect(await dlqSequences(c.stack.nc)).toEqual([...before, first, second, third]); // a preview changes nothing
  await c.page.getByRole('button', { name: 'Replay chosen' }).click();
  await expect.poll(() => text('message')).toBe('Replayed 2 of 2.');
  expect(c.dialogs.at(-1)).toBe('Replay 2 dead-letter entries at 10 jobs/s? Each is sent again as a new job and leaves the DLQ.');
  const left = await dlqSequences(c.stack.nc);
  expect(left).toEqual(expect.arrayContaining([...before, second]));
  expect(left).not.toContain(first);
  expect(left).not.toContain(third);
  await c.screenshot('console-dlq');

  await c.page.getByLabel(`choose entry ${second}`).check();
  await c.page.getByRole('button', { name: 'Purge chosen' }).click();
  await expect.poll(() => text('message')).toBe('Purged 1 of 1.');
  expect(c.dialogs.at(-1)).toBe('Purge 1 dead-letter entry? They are deleted for good.');
  const after = await dlqSequences(c.stack.nc);
  expect(after).not.toContain(second);
  expect(after).toEqual(expect.arrayContaining(before));
}, 90_000);

it('shows a job\'s page: its status timeline, each attempt with the breakers it met, its dead letter, and its trace as a waterfall with every hop', async () => {
  // The supervisor found no Jaeger: the console receives the roles' spans itself, with its token.
  const otlp = `http://127.0.0.1:${Number(new URL(c.stack.url('console')).port) - 8090 + 4318}/v1/traces`;
  const anonymous = await fetch(otlp, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resourceSpans":[]}' });
  expect(anonymous.status).toBe(401);

  const id = String((await postJob(c.stack.url('ingress'), { type: 'slow.report' })).json.id);
  await expect.poll(async () => (await c.stack.status.read(id))?.status, { timeout: 30_000 }).toBe('completed');
  // Spans leave each role in batches: the page shows the trace once every hop's has arrived.
  const hops = async () => {
    await c.page.goto(`${c.stack.url('console')}/jobs/${id}`);
    return c.page.locator('[data-testid="waterfall"] g.span-row').evaluateAll((rows) => [...new Set(rows.map((r) => r.getAttribute('data-service')))].sort());
  };
  await expect.poll(hops, { timeout: 30_000 }).toEqual(['ingress', 'service-a', 'service-b', 'service-c', 'worker-slow']);
  const breakers = await c.page.locator('[data-testid="waterfall"] g.span-row[data-breaker]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-breaker')));
  expect(breakers).toEqual(expect.arrayContaining(['worker-slow->service-a closed', 'service-a->service-b closed', 'service-b->service-c closed']));
  expect(await text('job-status')).toBe('completed');
  expect(await text('job-timeline')).toMatch(/accepted[\s\S]*processing \(attempt 1\)[\s\S]*completed \(attempt 1\)/);
  expect(await c.page.getByTestId('job-attempts').locator('tr[data-attempt="1"]').textContent()).toMatch(/completed[\s\S]*● worker-slow->service-a closed/);
  expect(await text('trace-source')).toMatch(/from the console's own OTLP receiver \(no Jaeger here\)/);
  await c.screenshot('console-job');

  // A poison job: one attempt, failed for good, its dead letter linked.
  const poison = String((await postJob(c.stack.url('ingress'), { type: 'fast.lookup', payload: { key: 42 } })).json.id);
  await expect.poll(async () => (await c.stack.status.read(poison))?.status, { timeout: 30_000 }).toBe('dead_lettered');
  await c.page.goto(`${c.stack.url('console')}/jobs/${poison}`);
  expect(await text('job-dlq')).toMatch(/Entry \d+: INVALID_PAYLOAD/);
  expect(await c.page.getByTestId('job-attempts').locator('tr[data-attempt="1"]').textContent()).toMatch(/dead-lettered: INVALID_PAYLOAD/);

  // Found from the header's box; a wrong id says what a job id is.
  await c.page.locator('form.find-job input[name="id"]').fill('not-a-job');
  await c.page.locator('form.find-job input[name="id"]').press('Enter');
  await expect.poll(() => text('job-search-error')).toMatch(/"not-a-job" is not a job id/);
  const json = await fetch(`${c.stack.url('console')}/api/jobs/${id}`).then((r) => r.json()) as { view: { status: string }; traceSource: string; spans: unknown[] };
  expect([json.view.status, json.traceSource, json.spans.length > 5]).toEqual(['completed', 'console', true]);
  expect((await fetch(`${c.stack.url('console')}/api/jobs/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
}, 90_000);

it('lab mode: shows the lab in progress graded live, the hints unlocked and the grade recorded, and nothing once it stops', async () => {
  const env = { NATS_URL: c.stack.natsUrl, TPS_STATE_DIR: c.stack.stateDir, TPS_PROMETHEUS_URL: noPrometheus };
  await c.page.goto(`${c.stack.url('console')}/lab`);
  expect(await text('lab-none')).toMatch(/No lab in progress/);
  expect((await tps(['lab', 'start', '2.1'], env)).code).toBe(0);
  // The open page follows by itself: the lab appears, graded by the same checks as tps lab check.
  const check = (id: string) => c.page.locator(`[data-testid="lab-checks"] tr[data-check="${id}"]`);
  await expect.poll(() => check('request').getAttribute('data-holds'), { timeout: 20_000 }).toBe('false');
  expect(await check('request').textContent()).toMatch(/FAIL[\s\S]*tps_jobs_submitted_total rose by 0 since the lab started/);
  expect(await check('healthy').getAttribute('data-holds')).toBe('true');
  expect(await text('lab-view')).toMatch(/Lab 2\.1: System setup[\s\S]*Start the system/);
  const hint = await tps(['lab', 'hint', '2.1', 'request'], env);
  expect(hint.code).toBe(0);
  await expect.poll(() => check('request').textContent(), { timeout: 20_000 }).toContain('The lab wants to see one job go in after it started.');

  expect((await postJob(c.stack.url('ingress'), { type: 'fast.echo' })).status).toBe(202);
  await expect.poll(() => text('lab-score'), { timeout: 20_000 }).toBe('100 %');
  expect((await tps(['lab', 'check', '2.1'], env)).code).toBe(0);
  await expect.poll(() => text('lab-last-grade'), { timeout: 20_000 }).toBe('100 %, passed');
  await c.screenshot('console-lab');
  const json = await fetch(`${c.stack.url('console')}/api/lab`).then((r) => r.json()) as { lab: string; score: number; checks: Array<{ id: string; holds: boolean }> };
  expect([json.lab, json.score, json.checks.every((c) => c.holds)]).toEqual(['2.1', 100, true]);
  expect((await tps(['lab', 'stop', '2.1'], env)).code).toBe(0);
  await expect.poll(() => c.page.getByTestId('lab-none').count(), { timeout: 20_000 }).toBe(1);
}, 90_000);
