// The monitoring against a real Prometheus: the native stack with Prometheus started by the
// supervisor (as `make up` does), scraping every second, under load with a poison job, an
// invalid job, a duplicate side effect, an expired deadline and a chaos fault that opens
// breakers, and a canary of service-b. Every dashboard query and recording rule must return data,
// every alert evaluate. Then a staged history (lab 3.5's months) is served at once.
import { parameterChanges } from '#monitoring/dashboards/model.ts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deadlineHeader } from '#platform/http/downstream.ts';
import { roles } from '#services/registry.ts';
import { metricNames, panelQueries, rules } from '#devenv/monitoring.ts';
import { startNatsServer, waitFor, type NatsServerHandle } from '#devenv/nats-server.ts';
import { postJob } from '#devenv/roles.ts';
import { tps } from '#devenv/cli.ts';
import { startStack, type Stack } from '#devenv/stack.ts';
import { stageGrowth } from '#operator/capacity/stage.ts';

let server: NatsServerHandle;
let stack: Stack;
let prometheus: string;

beforeAll(async () => {
  server = await startNatsServer();
  // Every role, the console too: each is a scrape job of its own.
  stack = await startStack(server.url, { TPS_MONITORING: 'auto', TPS_SCRAPE_INTERVAL: '1s', BREAKER_RESET_MS: '2s' }, { console: true });
  prometheus = stack.url('prometheus');
  await waitFor(() => fetch(`${prometheus}/-/ready`).then((r) => r.ok || undefined, () => undefined), 60_000, () => 'Prometheus ready');
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await server?.dispose();
}, 60_000);

type Vector = { status: string; error?: string; data?: { result: unknown[] } };
async function query(expr: string): Promise<Vector> {
  const res = await fetch(`${prometheus}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: expr }) });
  return (await res.json()) as Vector;
}

/**
 * The autoscaler is another role (not yet in the role table here): until the supervisor runs it,
 * nothing emits tps_autoscaler_*, so only then are queries over those names left out.
 */
const autoscalerRuns = Object.values(roles).some((r) => r.name === 'autoscaler');
const emittedHere = (expr: string) => autoscalerRuns || !metricNames(expr).some((n) => n.startsWith('tps_autoscaler_'));

/** Jobs of both pools at ~40/s until stopped, as `make load` would. */
function driveLoad(): () => Promise<void> {
  let running = true;
  const loop = (async () => {
    while (running) {
      const paced = new Promise((resolve) => setTimeout(resolve, 100));
      await Promise.all(['fast.echo', 'fast.echo', 'fast.lookup', 'slow.report'].map((type) => postJob(stack.url('ingress'), { type }).catch(() => undefined)));
      await paced;
    }
  })();
  return async () => { running = false; await loop; };
}

async function work(service: 'service-a' | 'service-b', body: object, headers: Record<string, string>): Promise<number> {
  const res = await fetch(`${stack.url(service)}/work`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  await res.text();
  return res.status;
}

/** The events that make the event-only series exist: refusals, dead letters, duplicates, breaker openings. */
async function provokeEveryEvent(): Promise<void> {
  expect((await postJob(stack.url('ingress'), { type: 'fast.lookup', payload: { key: 42 } })).status).toBe(202);
  expect((await postJob(stack.url('ingress'), { type: 'no.such-type' })).status).toBe(400);
  const job = { jobId: `dup-${Date.now()}`, type: 'fast.lookup' };
  expect(await work('service-b', job, { 'idempotency-key': job.jobId })).toBe(200);
  expect(await work('service-b', job, { 'idempotency-key': job.jobId })).toBe(200);
  expect(await work('service-a', { jobId: 'late', type: 'fast.echo' }, { [deadlineHeader]: String(Date.now() - 1_000) })).toBe(504);
  await stack.chaos.set({ target: 'service-c', fault: 'error_rate', params: { ratio: 1 } }, 'monitoring-live.test');
  await waitFor(async () => ((await query('tps_circuit_transitions_total{to="open"}')).data?.result.length ?? 0) > 0 || undefined, 45_000, () => 'a breaker to open');
  await stack.chaos.reset('monitoring-live.test');
}

/** Polls until every query returns at least one series; the failures so far otherwise. */
async function untilAllReturnData(queries: Array<{ where: string; expr: string }>, timeoutMs: number): Promise<void> {
  let empty: string[] = [];
  await waitFor(async () => {
    empty = [];
    for (const q of queries) {
      const r = await query(q.expr);
      if (r.status !== 'success' || !r.data?.result.length) empty.push(`${q.where}: ${r.error ?? 'no data'} (${q.expr})`);
    }
    return empty.length === 0 || undefined;
  }, timeoutMs, () => `every query to return data; still empty:\n  ${empty.join('\n  ')}`);
}

it('Prometheus scrapes every role with exemplars kept, and every panel, recording rule and alert works under load', async () => {
  const flags = (await (await fetch(`${prometheus}/api/v1/status/flags`)).json()) as { data: Record<string, string> };
  expect(flags.data['enable-feature']).toContain('exemplar-storage');

  const ruleList = rules();
  const stopLoad = driveLoad();
  try {
    await waitFor(async () => ((await query('up == 1')).data?.result.length === Object.keys(roles).length) || undefined, 30_000, () => 'every role scraped');
    await provokeEveryEvent();
    // The canary row of the chain dashboard: a canary of service-b takes half of service-a's calls.
    const canary = await tps(['canary', 'start', 'service-b', '--version', 'v2', '--weight', '50'], { NATS_URL: server.url, TPS_STATE_DIR: stack.stateDir }, { timeoutMs: 90_000 });
    expect(canary.code, canary.stderr).toBe(0);

    const used = [...panelQueries(), ...ruleList.map((r) => ({ where: r.record ?? r.alert ?? '', expr: r.expr }))];
    const raw = [...new Set(used.flatMap((u) => metricNames(u.expr)).filter((n) => !n.includes(':') && emittedHere(n)))];
    // The live-scrape check: every metric a panel or rule names is really emitted by a role.
    await untilAllReturnData(raw.map((name) => ({ where: 'metric', expr: name })), 45_000);
    await untilAllReturnData([
      ...panelQueries().filter((q) => emittedHere(q.expr)),
      ...ruleList.filter((r) => r.record && emittedHere(r.expr)).map((r) => ({ where: 'recording rule', expr: r.record ?? '' })),
    ], 60_000);
  } finally {
    await stopLoad();
  }

  for (const alert of ruleList.filter((r) => r.alert)) {
    const r = await query(alert.expr);
    expect(r.status, `${alert.alert}: ${r.error}`).toBe('success');
  }
  // The dashboards' annotation (live parameter changes) is PromQL Prometheus accepts, over a metric every role with breakers emits.
  expect((await query(parameterChanges.expr)).status).toBe('success');
  expect((await query('tps_config_parameter{name="breaker.error-percent"}')).data?.result.length).toBeGreaterThan(0);
  const groups = (await (await fetch(`${prometheus}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> } };
  const unhealthy = groups.data.groups.flatMap((g) => g.rules).filter((r) => r.health === 'err');
  expect(unhealthy.map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);
}, 240_000);

it('a staged history is served at once: the supervisor restarts Prometheus to load it', async () => {
  const lines: string[] = [];
  const note = await stageGrowth({ stateDir: stack.stateDir, prometheusUrl: prometheus, progress: (l) => lines.push(l) });
  expect(lines).toContain('history: Prometheus restarted to load it at once');
  expect(lines.join('\n')).not.toContain('waiting for Prometheus');
  expect(note).toMatch(/^history: 90 days of growing load backfilled into Prometheus \(\d+ blocks\)$/);
  // No wait: lab 3.5's months are there as the call returns (its samples are 30 min apart).
  const body = new URLSearchParams({ query: 'last_over_time(up[1h])', time: String((Date.now() - 30 * 86_400_000) / 1000) });
  const answer = (await (await fetch(`${prometheus}/api/v1/query`, { method: 'POST', body })).json()) as Vector;
  expect(answer.data?.result.length).toBeGreaterThan(0);
}, 120_000);
