// How bin/tps reaches the compose stack (scripts/stack.sh): `docker exec` in the standing tools
// container (service `tools`), creating no container per command; a signal to bin/tps without a
// terminal, as a script or `timeout` sends it, reaches the command inside (docker exec forwards
// none), so an interrupted load stops there too; and, with the standing container stopped, the
// same command in a container of its own (`run --rm tps`).
import { spawn } from 'node:child_process';
import { projectRoot } from '#platform/paths.ts';
import { expect, run } from './stack-access.ts';

/** The containers the stack's project created between two moments (docker events, then done). */
async function created(project: string, since: number): Promise<string[]> {
  const r = await run('docker', ['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'type=container',
    '--filter', 'event=create', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Actor.Attributes.name}}'], { quiet: true });
  return r.out.split('\n').filter(Boolean);
}

/** The command lines of the processes running in the standing tools container. */
async function toolsProcesses(container: string): Promise<string[]> {
  const r = await run('docker', ['exec', container, 'sh', '-c', 'for p in /proc/[0-9]*; do tr "\\0" " " < "$p/cmdline" 2>/dev/null; echo; done'], { quiet: true });
  return r.out.split('\n').map((l) => l.trim()).filter(Boolean);
}

/** `bin/tps load` without a terminal, interrupted once its load is under way: its exit and output. */
function interruptedLoad(): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bin/tps', ['load', '--rate', '5', '--duration', '120s', '--mix', 'fast.echo=1'], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let sent = false;
    const take = (d: Buffer) => {
      out += d.toString();
      // The load's first line is printed once it runs in the container.
      if (!sent && out.includes('tps load: 5/s')) { sent = true; child.kill('SIGINT'); }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`bin/tps load: not ended 60 s after SIGINT was due\n${out}`)); }, 60_000);
    child.once('exit', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

export async function checkToolsContainer(): Promise<void> {
  const tools = (await run('docker-compose', ['ps', '-q', 'tools'], { quiet: true })).out.trim();
  expect(tools, 'the standing tools container (service tools) should run after docker-compose up');
  const project = (await run('docker', ['inspect', '--format', '{{ index .Config.Labels "com.docker.compose.project" }}', tools], { quiet: true })).out.trim();

  const since = Math.floor(Date.now() / 1000);
  const listed = await run('bin/tps', ['chaos', 'list']);
  expect(listed.code === 0, `bin/tps chaos list exited ${listed.code}`);
  const made = await created(project, since);
  expect(made.length === 0, `bin/tps should docker exec in the standing tools container, yet created: ${made.join(', ')}`);

  const load = await interruptedLoad();
  for (const line of load.out.trimEnd().split('\n')) console.log(`     | ${line}`);
  expect(load.code === 130, `bin/tps load interrupted with SIGINT should end as the load does on Ctrl-C (130), exited ${load.code}`);
  const left = (await toolsProcesses(tools)).filter((p) => p.includes('cli/main.ts load'));
  expect(left.length === 0, `the interrupted load should stop in the tools container too, still running: ${left.join('; ')}`);
  console.log('   bin/tps runs by docker exec in the standing tools container (no container created); SIGINT without a terminal stopped the load inside, exit 130');

  // Without the standing container, bin/tps falls back to a container of its own.
  const stop = await run('docker-compose', ['stop', 'tools'], { quiet: true });
  expect(stop.code === 0, `docker-compose stop tools exited ${stop.code}`);
  const fallbackSince = Math.floor(Date.now() / 1000);
  const fallback = await run('bin/tps', ['chaos', 'list']);
  expect(fallback.code === 0, `bin/tps chaos list without the standing tools container exited ${fallback.code}`);
  const runs = await created(project, fallbackSince);
  expect(runs.some((name) => name.includes('_tps_run')), `bin/tps should run in a container of its own when the tools container is stopped, created: ${runs.join(', ') || 'none'}`);
  // Running again once start returns, which is all docker exec needs (healthy follows in 5 s).
  const started = await run('docker-compose', ['start', 'tools'], { quiet: true });
  expect(started.code === 0, `docker-compose start tools exited ${started.code}`);
  console.log('   with the tools container stopped, bin/tps ran in a container of its own (run --rm tps); started again');
}
