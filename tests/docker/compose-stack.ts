// The checks of `make test-compose`, against the compose stack tests/docker/run.sh started with
// `docker-compose up -d` on a real Docker engine. Each step prints its time; the first failure
// stops the run with a non-zero exit (run.sh then shows the stack and cleans up).
import { jobCatalogue } from '#platform/job-catalogue.ts';
import { waitFor } from '#devenv/nats-server.ts';
import { checkChaos, checkDashboards, checkLabs, checkLoadAndAudit, checkOperatorCommands } from './stack-checks.ts';
import { expect, jobStatus, run, submit, traces, urls, type JaegerTrace } from './stack-access.ts';
import { checkCanary } from './canary-checks.ts';
import { checkExamDay } from './exam-day-checks.ts';
import { checkConsoleActions } from './console-actions.ts';
import { checkOomKill } from './oom-checks.ts';
import { checkDockerRestart } from './restart-checks.ts';
import { checkToolsContainer } from './tools-checks.ts';

const started = Date.now();
async function step(name: string, body: () => Promise<void>): Promise<void> {
  const t = Date.now();
  console.log(`\n-- ${name}`);
  await body();
  console.log(`   ok (${((Date.now() - t) / 1000).toFixed(1)} s; ${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
}

type Container = { service: string; name: string; state: string; status: string };
async function containers(): Promise<Container[]> {
  const r = await run('docker', ['ps', '-a', '--format', '{{.Label "com.docker.compose.service"}}|{{.Names}}|{{.State}}|{{.Status}}'], { quiet: true });
  return r.out.trim().split('\n').filter(Boolean).map((line) => {
    const [service = '', name = '', state = '', status = ''] = line.split('|');
    return { service, name, state, status };
  });
}

/** Jobs the test submitted itself, checked at the end like the load ledger. */
const submitted: string[] = [];

async function checkContainers(): Promise<void> {
  const all = await containers();
  for (const c of all) console.log(`   ${c.name.padEnd(28)} ${c.status}`);
  const running = all.filter((c) => c.state === 'running');
  expect(running.length >= 5, `lab 2.1 asks for at least 5 containers; ${running.length} run`);
  // Only provision ends; anything else not running (restarting, exited) is a service that fails.
  const down = all.filter((c) => c.service !== 'provision' && c.state !== 'running');
  expect(down.length === 0, `not running: ${down.map((c) => `${c.name} (${c.status})`).join(', ')}`);
  const unhealthy = running.filter((c) => !c.status.includes('(healthy)'));
  expect(unhealthy.length === 0, `not healthy: ${unhealthy.map((c) => c.name).join(', ')}`);
  const provision = all.find((c) => c.service === 'provision');
  expect(provision?.status.startsWith('Exited (0)'), `provision should have exited 0: ${provision?.status}`);
}

type Inspected = {
  Name: string; Config: { User: string; Image: string; Labels: Record<string, string> };
  HostConfig: { ReadonlyRootfs: boolean; CapDrop: string[] | null; SecurityOpt: string[] | null; PortBindings: Record<string, Array<{ HostIp: string }> | null> | null };
  Mounts: Array<{ Source: string }>;
};

/** Reliability matrix S13/S14 on the running containers, not only in the file. */
async function checkHardening(): Promise<void> {
  const ids = (await run('docker', ['ps', '-q', '--filter', 'label=com.docker.compose.project'], { quiet: true })).out.trim().split('\n').filter(Boolean);
  const inspected = JSON.parse((await run('docker', ['inspect', ...ids], { quiet: true })).out) as Inspected[];
  const problems: string[] = [];
  for (const c of inspected) {
    const name = c.Name.replace(/^\//, '');
    if (!c.HostConfig.ReadonlyRootfs) problems.push(`${name}: root filesystem writable`);
    if (!(c.HostConfig.CapDrop ?? []).includes('ALL')) problems.push(`${name}: capabilities not dropped`);
    if (!(c.HostConfig.SecurityOpt ?? []).some((o) => o.startsWith('no-new-privileges'))) problems.push(`${name}: no no-new-privileges`);
    if (c.Mounts.some((m) => m.Source.includes('docker.sock'))) problems.push(`${name}: mounts the Docker socket`);
    for (const [port, bindings] of Object.entries(c.HostConfig.PortBindings ?? {})) {
      for (const b of bindings ?? []) if (b.HostIp !== '127.0.0.1') problems.push(`${name}: ${port} published on ${b.HostIp || 'every address'}`);
    }
    // Our image runs as node (uid 1000); third-party images keep their own default user.
    if (c.Config.Image === 'tps-lab:local' && ['', 'root', '0'].includes(c.Config.User)) problems.push(`${name}: runs as root`);
  }
  expect(problems.length === 0, `hardening of the running containers:\n  ${problems.join('\n  ')}`);
  console.log(`   ${inspected.length} containers: read-only root, capabilities dropped, no-new-privileges, ports on 127.0.0.1 only, no Docker socket; ours as ${inspected.find((c) => c.Config.Image === 'tps-lab:local')?.Config.User}`);
}

async function checkJobsEndToEnd(): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const type of Object.keys(jobCatalogue)) ids.set(await submit(type), type);
  submitted.push(...ids.keys());
  for (const [id, type] of ids) {
    const status = await waitFor(async () => ((await jobStatus(id)) === 'completed' ? 'completed' : undefined), 60_000, () => `${type} job ${id} to complete`);
    console.log(`   ${type.padEnd(12)} ${id} ${status}`);
  }
  return ids;
}

/** Each role under its own service name, and every span of a job in that job's one trace. */
async function checkTraces(jobs: Map<string, string>): Promise<void> {
  const tagOf = (s: JaegerTrace['spans'][number], key: string) => s.tags.find((t) => t.key === key)?.value;
  const expected = (type: string) => {
    const job = jobCatalogue[type];
    return ['ingress', `worker-${job?.pool}`, ...['service-a', 'service-b', 'service-c'].slice(0, job?.depth ?? 0)];
  };
  for (const [id, type] of jobs) {
    const want = expected(type);
    const services = await waitFor(async () => {
      // Every trace, from any service, in which a span carries this job's message id.
      const all = (await Promise.all(want.map((s) => traces(s)))).flat();
      const mine = new Map(all.filter((t) => t.spans.some((s) => tagOf(s, 'messaging.message.id') === id)).map((t) => [t.traceID, t]));
      if (mine.size !== 1) return undefined;
      const trace = [...mine.values()][0] as JaegerTrace;
      const names = new Set(trace.spans.map((s) => trace.processes[s.processID]?.serviceName ?? '?'));
      return want.every((w) => names.has(w)) ? [...names] : undefined;
    }, 30_000, () => `one trace for ${type} job ${id} with spans of ${want.join(', ')}`);
    console.log(`   ${type.padEnd(12)} one trace, services: ${services.sort().join(', ')}`);
  }
  const res = await fetch(`${urls.jaeger}/api/services`);
  const names = ((await res.json()) as { data: string[] }).data;
  expect(!names.includes('tps-lab') && !names.includes('tps'), `a shared service name hides the roles: ${names.join(', ')}`);
}

/** The console container: the board from every role's metrics (each replica), read-only without a
 * token; a job's page from the job status bucket, its trace linked to Jaeger. */
async function checkConsole(jobs: Map<string, string>): Promise<void> {
  const page = await fetch(urls.console);
  expect(page.ok && (await page.text()).includes('the Andon board'), `the console's page should answer at ${urls.console} (HTTP ${page.status})`);
  type Board = { snapshot: { roles: Array<{ role: string; up: boolean }>; pools: Array<{ pool: string; queue: { capacity: number } }> } };
  const board = await waitFor(async () => {
    const b = (await (await fetch(`${urls.console}/api/board`)).json()) as Board;
    return b.snapshot.roles.length > 0 && b.snapshot.roles.every((r) => r.up) ? b : undefined;
  }, 30_000, () => 'the console to read every role');
  const replicas = board.snapshot.roles.filter((r) => r.role === 'worker-fast').length;
  expect(replicas === 2, `the console should read both worker-fast replicas, read ${replicas}`);
  expect(board.snapshot.pools.every((p) => p.queue.capacity > 0), 'the console should show each queue\'s capacity');
  const refused = await fetch(`${urls.console}/api/breakers/open`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"worker-fast->service-a"}' });
  expect(refused.status === 401, `an action without the admin token should get 401, got ${refused.status}`);
  // A job's page: its trace drawn from Jaeger's query API, and linked in Jaeger's UI.
  const [id] = [...jobs].find(([, type]) => type === 'slow.report') ?? [];
  const job = await fetch(`${urls.console}/jobs/${id}`);
  const text = await job.text();
  const hops = [...new Set([...text.matchAll(/<g class="span-row" data-service="([^"]+)"/g)].map((m) => m[1]))].sort();
  expect(job.ok && text.includes('completed') && text.includes(`href="http://localhost:${new URL(urls.jaeger).port}/trace/`), `the console's page of job ${id} should show it completed and link its trace in Jaeger (HTTP ${job.status}): ${text.slice(0, 600)}`);
  expect(hops.join(',') === 'ingress,service-a,service-b,service-c,worker-slow', `the job's waterfall should have every hop, from Jaeger: ${hops.join(', ')}`);
  // The Andon cord: Prometheus sends to the alertmanager service, whose alerts the console reads.
  const managers = await waitFor(async () => {
    const body = (await (await fetch(`${urls.prometheus}/api/v1/alertmanagers`)).json()) as { data: { activeAlertmanagers: Array<{ url: string }> } };
    return body.data.activeAlertmanagers.length > 0 ? body.data.activeAlertmanagers.map((a) => a.url) : undefined;
  }, 30_000, () => 'Prometheus to find the alertmanager service');
  expect(managers.every((u) => u.includes(':9093/')), `Prometheus should send alerts to alertmanager:9093, found ${managers.join(', ')}`);
  const alerts = (await (await fetch(`${urls.console}/api/alerts`)).json()) as { unreachable?: string; alerts?: unknown[] };
  expect(alerts.unreachable === undefined && Array.isArray(alerts.alerts), `the console should read the alertmanager service: ${JSON.stringify(alerts)}`);
  expect((await fetch(`${urls.alertmanager}/-/ready`)).ok, 'Alertmanager should answer on its published port');
  console.log(`   ${board.snapshot.roles.length} role processes read (worker-fast x${replicas}); actions refused without the token; a job's waterfall from Jaeger with every hop; Prometheus -> alertmanager -> console`);
}

async function checkSubmittedEnded(): Promise<void> {
  const open: string[] = [];
  for (const id of submitted) {
    const status = await jobStatus(id);
    if (status !== 'completed' && status !== 'dead_lettered') open.push(`${id}: ${status}`);
  }
  expect(open.length === 0, `jobs the test submitted that did not end: ${open.join(', ')}`);
  console.log(`   all ${submitted.length} jobs the test submitted itself ended (completed or dead-lettered)`);
}

async function main(): Promise<void> {
  await step('lab 2.1: at least 5 containers, every one healthy, provision exited 0', checkContainers);
  await step('the running containers are hardened as the file says (S13, S14)', checkHardening);
  const jobs = new Map<string, string>();
  await step('jobs of every type complete end to end', async () => { for (const [id, type] of await checkJobsEndToEnd()) jobs.set(id, type); });
  await step('traces: each role its own service, one trace per job (Jaeger query API)', () => checkTraces(jobs));
  await step('the console: the Andon board from every role, read-only without the admin token; a job\'s page', () => checkConsole(jobs));
  await step('bin/tps in the standing tools container: docker exec, no container per command; SIGINT without a terminal stops the command inside; stopped, a container of its own', checkToolsContainer);
  // Before the dashboards: the canary row has data once a canary has run (the stable track is counted from then on).
  await step('lab 3.6: a canary container of profile canary, bin/tps canary start, status and rollback', () => checkCanary(submitted));
  await step('Prometheus: every target up; every dashboard panel and recording rule returns data', () => checkDashboards(submitted));
  await step('make chaos / make chaos TARGET=service-c LATENCY=5000 / make chaos-stop, as typed', checkChaos);
  await step('bin/tps breaker list, diagnose and dlq list on the host', checkOperatorCommands);
  await step('a history that cannot be loaded fails its command (lab 3.5), the Level 2 exam in compose (start, check, stop), its weekend and recording rules loaded into Prometheus, the console\'s lab mode, then lab list on the host', checkLabs);
  await step('the Level 3 exam\'s day: its proctor container; lab 2.5\'s bin/tps scale fast --replicas 3 (3 containers, one durable consumer) and bin/tps restart, recorded; stop removes it', () => checkExamDay(submitted));
  await step('make load RATE=500 (native generator: no k6 image here), then make audit', checkLoadAndAudit);
  await step('O4: every worker-fast container leaking past its 256m limit until the OOM killer ends it; restarted, no job lost', () => checkOomKill(submitted));
  await step('the console\'s actions with docker-compose.admin.yml: a breaker and a fault through the console, with the token', checkConsoleActions);
  await step('Docker restarts (a reboot, the power aside): every container back by itself, healthy, provision not run again; every job queued at the stop completes', () => checkDockerRestart(submitted, checkContainers));
  await step('every job the test submitted ended', checkSubmittedEnded);
  console.log(`\ncompose stack checks passed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((err: unknown) => {
  console.error(`\nFAILED: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
