// The Level 3 exam's day in compose, compressed 360 times (an exam hour in 10 s; at 720 a loaded
// machine's slower `bin/tps` calls could outlast the day): `bin/tps exam 3
// start` leaves a proctor container running after its tools container has gone, the proctor brings
// the failures, the levers that need Docker run on the host and are recorded as natively
// (`bin/tps scale fast --replicas 3`, lab 2.5's lever, counts as the crash's fix; `bin/tps
// restart`), and `bin/tps exam 3 stop` ends the proctor, removes its container and leaves no
// fault. The whole day is graded natively (tests/exam-3.test.ts).
import { waitFor } from '#devenv/nats-server.ts';
import { expect, make, promQuery, run, submit, urls } from './stack-access.ts';

const proctors = async () => (await run('docker', ['ps', '-a', '-q', '--filter', 'label=com.docker.compose.service=proctor'], { quiet: true })).out.trim().split('\n').filter(Boolean);
const chaosList = async () => (await run('bin/tps', ['chaos', 'list'], { quiet: true })).out;

/** Lab 2.5's lever, and the 4 PM crash's fix: three worker-fast containers on the pool's one durable consumer. */
async function scaledFast(submitted: string[]): Promise<void> {
  const connz = (await (await fetch(`${urls.natsMonitor}/connz?auth=true&limit=1024`)).json()) as { connections: Array<{ authorized_user?: string }> };
  const workers = connz.connections.filter((c) => c.authorized_user === 'worker-fast').length;
  expect(workers === 3, `3 worker-fast connections expected at NATS, found ${workers}`);
  // Right after the day, its backlog may still fill the queues (a CI run met QUEUE_FULL here): the
  // burst waits as a client told Retry-After does.
  const burst = await Promise.all(Array.from({ length: 300 }, () => submit('fast.echo', undefined, { queueFullForMs: 120_000 })));
  submitted.push(...burst);
  // Every replica took some of the burst from the pool's one durable consumer (workers-fast).
  await waitFor(async () => (await promQuery('sum by (instance) (tps_jobs_processed_total{job="worker-fast",outcome="success"}) > 0')).length === 3 || undefined,
    60_000, () => 'all 3 worker-fast replicas to process jobs');
  expect(/3 workers/.test(await make('status')), 'make status should count 3 fast workers');
}

export async function checkExamDay(submitted: string[]): Promise<void> {
  const start = await run('bin/tps', ['exam', '3', 'start', '--speed', '360', '--choose', 'crash=worker-fast,leak=worker-slow']);
  expect(start.code === 0 && start.out.includes('the day\'s proctor starts'), `bin/tps exam 3 start should start the proctor's container (exit ${start.code}): ${start.out.slice(-600)}`);
  expect((await proctors()).length === 1, 'one proctor container should run after the start command has ended');
  // A check failing mid-day stops the exam still: a run left in progress in .tps/labs would refuse
  // the next `make test-compose` its exams (one lab at a time).
  let stopped = false;
  try {
    // 4 PM (20 s in): a worker-fast container crashes (compose restarts it), after service-a slowed at 3 PM.
    await waitFor(async () => (/worker-fast +crash/.test(await chaosList()) || undefined), 60_000, () => 'the proctor to bring the 4 PM crash', 1_000);
    const proctorLog = async () => (await run('docker-compose', ['logs', '--no-color', '--tail', '20', 'proctor'], { quiet: true })).out;
    expect(/service-a +latency/.test(await chaosList()), `the 3 PM failure should be in force; the proctor's log ends:\n${await proctorLog()}`);
    // The fix from the host, recorded by the tools container as natively: the exam counts it.
    const scaled = await run('bin/tps', ['scale', 'fast', '--replicas', '3']);
    expect(scaled.code === 0 && scaled.out.includes('fast pool: 3 worker containers (was 2), recorded'), `bin/tps scale fast --replicas 3 should change the containers and record it (exit ${scaled.code}): ${scaled.out.slice(-600)}`);
    const check = await run('bin/tps', ['exam', '3', 'check']);
    expect(/pass {2}fix-crash /.test(check.out), `bin/tps exam 3 check should count the crash fixed by the recorded replicas: ${check.out}`);
    const restart = await run('bin/tps', ['restart', 'service-b', '--reason', 'the exam in compose']);
    expect(restart.code === 0 && restart.out.includes('service-b: restart recorded'), `bin/tps restart service-b should restart its container and record it (exit ${restart.code}): ${restart.out.slice(-600)}`);
    const stop = await run('bin/tps', ['exam', '3', 'stop']);
    stopped = stop.code === 0;
    expect(stop.code === 0, `bin/tps exam 3 stop should succeed (exit ${stop.code}): ${stop.out.slice(-600)}`);
    expect((await proctors()).length === 0, 'the proctor container should be removed after the stop');
  } finally {
    if (!stopped) await run('bin/tps', ['exam', '3', 'stop'], { quiet: true }).catch(() => undefined);
  }
  const left = await chaosList();
  expect(!/latency|memory_leak|bandwidth|crash/.test(left), `no fault of the day should be left after the stop: ${left}`);
  console.log('   the day\'s proctor ran in a container of its own; the fixes from the host were recorded; stopped and removed');
  await scaledFast(submitted);
}
