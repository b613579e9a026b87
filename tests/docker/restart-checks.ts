// A reboot, as far as the stack can tell (the power aside: a cut is tests/power-cut.test.ts,
// natively): Docker stops every container, each with SIGTERM and its stop grace, and starts again
// on the same data. What `restart: unless-stopped` names comes back by itself, in no particular
// order and without the one-shot provision; the queues are in the nats-data volume. Every job
// accepted before, queued or in flight at the stop, must end after it.
import { waitFor } from '#devenv/nats-server.ts';
import { expect, jobStatus, run, submit, urls } from './stack-access.ts';

type Jsz = { account_details?: Array<{ stream_detail?: Array<{ name: string; state: { messages: number } }> }> };

/** Messages a stream holds (on a work queue: jobs not yet acknowledged), from NATS's monitoring port. */
async function streamMessages(stream: string): Promise<number> {
  const jsz = (await (await fetch(`${urls.natsMonitor}/jsz?streams=true`)).json()) as Jsz;
  return jsz.account_details?.flatMap((a) => a.stream_detail ?? []).find((s) => s.name === stream)?.state.messages ?? 0;
}

/** The stack's containers that are not up again: every service but provision is brought back by
 * its restart policy, but only after dockerd answers, one by one. */
async function notStartedAgain(): Promise<string[]> {
  const ps = await run('docker', ['ps', '-a', '--filter', 'label=com.docker.compose.project', '--format', '{{.Label "com.docker.compose.service"}}|{{.Names}}|{{.State}}|{{.Status}}'], { quiet: true });
  return ps.out.trim().split('\n').filter(Boolean).map((line) => line.split('|'))
    .filter(([service, , state]) => service !== 'provision' && state !== 'running' && state !== 'restarting')
    .map(([, name, , status]) => `${name} (${status})`);
}

type Inspected = { Name: string; Config: { Labels: Record<string, string> }; State: { Status: string; StartedAt: string; FinishedAt: string; ExitCode: number } };

/** Every container of the stack, inspected. */
async function inspectStack(): Promise<Inspected[]> {
  const ids = (await run('docker', ['ps', '-a', '-q', '--filter', 'label=com.docker.compose.project'], { quiet: true })).out.trim().split('\n').filter(Boolean);
  return JSON.parse((await run('docker', ['inspect', ...ids], { quiet: true })).out) as Inspected[];
}
const serviceOf = (c: Inspected) => c.Config.Labels['com.docker.compose.service'];
const provisionOf = (all: Inspected[]) => all.find((c) => serviceOf(c) === 'provision')?.State;

/** `containersUp`: the stack's own check that every service but provision runs and is healthy. */
export async function checkDockerRestart(submitted: string[], containersUp: () => Promise<void>): Promise<void> {
  const provisionBefore = provisionOf(await inspectStack());
  // A backlog the slow pool cannot clear before the stop (~300 ms a job at service-c), within
  // the slow queue's bound.
  const ids = await Promise.all(Array.from({ length: 60 }, () => submit('slow.report', undefined, { queueFullForMs: 30_000 })));
  submitted.push(...ids);
  const backlog = await streamMessages('JOBS_SLOW');
  console.log(`   ${ids.length} slow.report jobs accepted; JOBS_SLOW holds ${backlog} unacknowledged as Docker stops`);
  expect(backlog > 0, 'the slow queue should hold jobs when Docker stops, or this proves nothing about them');

  const stopAt = Date.now();
  const restarted = await run('tests/docker/engine.sh', ['restart'], { timeoutMs: 180_000 });
  expect(restarted.code === 0, `tests/docker/engine.sh restart exited ${restarted.code}`);
  let down: string[] = [];
  await waitFor(async () => (down = await notStartedAgain()).length === 0, 60_000, () => `Docker to start every service again (not up: ${down.join(', ')})`);
  const healthy = await run('scripts/compose.sh', ['wait'], { timeoutMs: 300_000 });
  expect(healthy.code === 0, 'every container should come back healthy by itself after Docker restarts');
  // The wait above takes a container that exited 0 for done (provision); every role must run again.
  await containersUp();

  const after = await inspectStack();
  // How long each took to stop (drain and exit) when Docker stopped it, slowest first.
  const stopped = after.filter((c) => serviceOf(c) !== 'provision').map((c) => ({ name: c.Name.replace(/^\//, ''), s: (Date.parse(c.State.FinishedAt) - stopAt) / 1000 })).sort((a, b) => b.s - a.s);
  console.log(`   stopped after: ${stopped.map((c) => `${c.name} ${c.s.toFixed(1)} s`).join(', ')}`);
  const provisionAfter = provisionOf(after);
  expect(provisionAfter?.ExitCode === 0 && provisionAfter.StartedAt === provisionBefore?.StartedAt,
    `provision should stay as it ended (exit 0, not run again): before ${JSON.stringify(provisionBefore)}, after ${JSON.stringify(provisionAfter)}`);

  const ended = await waitFor(async () => {
    const states = await Promise.all(ids.map(jobStatus));
    return states.every((s) => s === 'completed' || s === 'dead_lettered') ? states : undefined;
  }, 120_000, () => `every job accepted before Docker restarted to end (JOBS_SLOW held ${backlog} at the stop)`);
  const completed = ended.filter((s) => s === 'completed').length;
  expect(completed === ids.length, `every slow.report job should complete; ${ids.length - completed} were dead-lettered`);
  // One more through the restarted stack, ingress to service-c.
  const next = await submit('slow.report');
  submitted.push(next);
  await waitFor(async () => ((await jobStatus(next)) === 'completed' ? true : undefined), 60_000, () => 'a job submitted after the restart to complete');
  console.log(`   all ${ids.length} completed after the restart, and one submitted after it; provision not run again`);
}
