// Reliability matrix O4 on the compose stack: a worker's memory leak (the `memory_leak` fault) run
// past its container's memory limit (256m, docker-compose.yml) until the kernel's OOM killer ends
// it. Docker starts it again (restart: unless-stopped); a worker started after the fault was set
// does not leak, so it stays up; the jobs the killed one held come back after ack_wait, and every
// job submitted meanwhile ends: R1's kill -9, dealt by the kernel.
import { waitFor } from '#devenv/nats-server.ts';
import { expect, jobStatus, run, submit } from './stack-access.ts';

type Inspected = { Name: string; RestartCount: number; HostConfig: { Memory: number }; State: { Status: string; OOMKilled: boolean } };

/** Every worker-fast container, running or not. */
async function workers(): Promise<Inspected[]> {
  const ids = (await run('docker', ['ps', '-a', '-q', '--filter', 'label=com.docker.compose.service=worker-fast'], { quiet: true })).out.trim().split('\n').filter(Boolean);
  return ids.length === 0 ? [] : JSON.parse((await run('docker', ['inspect', ...ids], { quiet: true })).out) as Inspected[];
}
const describe = (ws: Inspected[]) => ws.map((w) => `${w.Name.replace(/^\//, '')} ${w.State.Status}${w.State.OOMKilled ? ' (OOM-killed)' : ''}, ${w.RestartCount} restarts`).join('; ');

export async function checkOomKill(submitted: string[]): Promise<void> {
  const before = await workers();
  // However many replicas run now (the exam's day leaves three), each with the file's limit.
  expect(before.length > 0 && before.every((w) => w.HostConfig.Memory === 256 * 1024 * 1024), `every worker-fast container should run with its 256m limit: ${JSON.stringify(before.map((w) => [w.Name, w.HostConfig.Memory]))}`);
  const since = Math.floor(Date.now() / 1000);
  const set = await run('bin/tps', ['chaos', 'set', 'worker-fast', 'memory_leak', 'mb_per_min=1024', 'cap=1024', '--duration', '3m']);
  expect(set.code === 0, `bin/tps chaos set worker-fast memory_leak should succeed (exit ${set.code})`);
  const started = Date.now();
  try {
    // Jobs keep coming while the workers leak, die and come back.
    const ids: string[] = [];
    let now = before;
    const restarted = waitFor(async () => {
      ids.push(await submit('fast.echo', undefined, { queueFullForMs: 30_000 }));
      now = await workers();
      return now.length === before.length && now.every((w) => w.State.Status === 'running' && w.RestartCount > (before.find((b) => b.Name === w.Name)?.RestartCount ?? 0)) ? now : undefined;
    }, 120_000, () => `the ${before.length} worker-fast containers to be OOM-killed and restarted (now: ${describe(now)})`, 500);
    const after = await restarted;
    const restartedMs = Date.now() - started;
    const events = await run('docker', ['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'event=oom', '--filter', 'label=com.docker.compose.service=worker-fast', '--format', '{{.Actor.Attributes.name}}'], { quiet: true });
    const killed = new Set(events.out.trim().split('\n').filter(Boolean));
    expect(killed.size === before.length, `the kernel's OOM killer should have ended the ${before.length} worker-fast containers (docker events: ${events.out.trim() || 'none'})`);
    const healthy = await run('scripts/compose.sh', ['wait']);
    expect(healthy.code === 0, 'the restarted workers should be healthy again');
    submitted.push(...ids);
    const ended = await waitFor(async () => {
      const states = await Promise.all(ids.map(jobStatus));
      return states.every((s) => s === 'completed' || s === 'dead_lettered') ? states : undefined;
    }, 90_000, () => 'every job submitted during the leak to end');
    console.log(`   OOM-killed: ${[...killed].join(', ')}; all restarted ${(restartedMs / 1000).toFixed(1)} s after the leak began (restarts: ${after.map((w) => w.RestartCount).join(', ')}); ${ids.length} jobs submitted meanwhile, ${ended.filter((s) => s === 'completed').length} completed, ${ended.filter((s) => s !== 'completed').length} dead-lettered`);
  } finally {
    await run('bin/tps', ['chaos', 'clear', 'worker-fast', 'memory_leak'], { quiet: true });
  }
}
