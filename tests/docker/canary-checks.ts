// Lab 3.6's lever in compose: the canary container of the `canary` profile started as docs/canary.md
// says, `bin/tps canary` on the host (it runs in the tools container) splitting service-a's calls,
// Prometheus scraping the canary as an instance of service-b's job with its version, the rollback,
// and the container removed again so `docker-compose down -v` finds the stack as it started it.
import { waitFor } from '#devenv/nats-server.ts';
import type { CanaryView } from '#operator/canary/view.ts';
import { expect, inStack, jobStatus, promQuery, run, submit } from './stack-access.ts';

const canaryEnv = { SERVICE_B_CANARY_VERSION: 'v2' };

/** Ready as the caller will reach it: its /readyz from inside the stack's network. */
async function ready(service: string, port: number): Promise<void> {
  await waitFor(async () => {
    const answer = await inStack(`fetch('http://${service}:${port}/readyz').then((r) => console.log(r.status), () => console.log(0))`).catch(() => '0');
    return answer === '200' || undefined;
  }, 90_000, () => `${service} to be ready`, 500);
}

export async function checkCanary(submitted: string[]): Promise<void> {
  const up = await run('docker-compose', ['--profile', 'canary', 'up', '-d', '--no-deps', 'service-b-canary'], { env: canaryEnv });
  expect(up.code === 0, `docker-compose --profile canary up -d service-b-canary exited ${up.code}`);
  try {
    await ready('service-b-canary', 8082);
    const start = await run('bin/tps', ['canary', 'start', 'service-b', '--version', 'v2', '--weight', '50']);
    expect(start.code === 0 && start.out.includes('service-b canary v2 takes 50 % of the calls (stable: v1)'), `bin/tps canary start should declare the canary (exit ${start.code})`);
    // Prometheus finds the container (DNS every 10 s) while the lookups run.
    const scraped = waitFor(async () => ((await promQuery('tps_build_info{job="service-b",version="v2",track="canary"}')).length === 1 || undefined), 60_000, () => 'Prometheus to scrape the canary', 500);
    scraped.catch(() => undefined); // awaited below; a failure meanwhile is not an unhandled rejection
    // Two waves of ten: a burst of forty into a stack that has just started (and a machine that has
    // just built its images) had a few calls run past the fast pool's 2 s attempt deadline.
    const ids: string[] = [];
    for (let wave = 0; wave < 2; wave += 1) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => submit('fast.lookup')));
      submitted.push(...batch);
      ids.push(...batch);
      await waitFor(async () => ((await Promise.all(batch.map(jobStatus))).every((s) => s === 'completed') || undefined), 60_000, () => 'the lookups to complete');
    }
    const status = await run('bin/tps', ['canary', 'status', '--json'], { quiet: true });
    const views = JSON.parse(status.out.slice(status.out.indexOf('['))) as CanaryView[];
    const canary = views[0]?.tracks.find((t) => t.track === 'canary');
    // Its calls succeed (a call that outran its deadline on a busy machine may fail on either track).
    expect(canary && canary.calls > 0 && canary.failed < canary.calls / 2 && canary.version === 'v2', `the canary should take calls and answer them: ${JSON.stringify(views[0]?.tracks)}`);
    console.log(`   canary v2: ${canary.calls} calls (${canary.failed} failed), stable v1: ${views[0]?.tracks[0]?.calls} calls (${views[0]?.tracks[0]?.failed} failed), as service-a counted them`);
    // Prometheus scrapes the canary's container under service-b's job, with its version.
    await scraped;
    const back = await run('bin/tps', ['canary', 'rollback', 'service-b']);
    expect(back.code === 0 && back.out.includes('rolled back: every call goes to v1'), `bin/tps canary rollback should succeed (exit ${back.code})`);
  } finally {
    await run('docker-compose', ['--profile', 'canary', 'rm', '-fsv', 'service-b-canary'], { env: canaryEnv, quiet: true });
  }
}
