// "Add a pool" in docs/architecture.md is the whole recipe: a copy of this checkout gets exactly the
// code blocks the doc shows (a pool entry and a job type), `make generate`, and then type-checks,
// runs natively with the new pool's worker, and completes a job of the new type. If adding a pool
// needs an edit the doc does not name, this fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectRoot } from '#platform/paths.ts';
import { copyProject, type ProjectCopy } from '#devenv/project-copy.ts';
import { waitFor } from '#devenv/nats-server.ts';
import { postJob } from '#devenv/roles.ts';
import { freeOffset } from '#devenv/stack.ts';

/** The fenced blocks of the doc's "Add a pool" section, by the file named after the fence's language. */
function recipe(): Record<string, string> {
  const doc = readFileSync(path.join(projectRoot, 'docs', 'architecture.md'), 'utf8');
  const start = doc.indexOf('### Add a pool');
  const section = doc.slice(start, doc.indexOf('\n### ', start + 5));
  return Object.fromEntries([...section.matchAll(/```ts (\S+)\n([\s\S]*?)```/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
}

let copy: ProjectCopy | undefined;
let env: Record<string, string> = {};
const node = (args: string[], extra: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', ...args], { cwd: copy?.root, encoding: 'utf8', env: { ...process.env, ...env, ...extra } });

const readLog = (from: ProjectCopy, name: string) => {
  try { return from.read(path.join('.tps', 'logs', name)); } catch { return '(none)'; }
};

afterAll(() => {
  if (!copy) return;
  node(['cli/main.ts', 'down']);
  rmSync(copy.root, { recursive: true, force: true });
});

it('a pool added as the doc says is provisioned, generated, served by its own worker and completes its jobs', async () => {
  const blocks = recipe();
  expect(Object.keys(blocks).sort()).toEqual(['platform/job-catalogue.ts', 'platform/pools.ts']);
  copy = copyProject();
  copy.insertBefore('platform/pools.ts', '} as const satisfies Record<string, PoolSettings>;', blocks['platform/pools.ts'] ?? '');
  copy.insertBefore('platform/job-catalogue.ts', '// New job types go above this line.', blocks['platform/job-catalogue.ts'] ?? '');

  const generate = node(['scripts/generate.ts']);
  expect(generate.stderr).toBe('');
  expect(generate.status).toBe(0);
  execFileSync(path.join(projectRoot, 'node_modules', '.bin', 'tsc'), ['-p', copy.root], { encoding: 'utf8' });

  // What cannot import TypeScript now knows the pool too.
  const compose = parse(copy.read('docker-compose.yml')) as { services: Record<string, { command: string[] }> };
  expect(compose.services['worker-bulk']?.command).toEqual(['run', 'worker-bulk']);
  expect(copy.read('nats/nats.conf')).toMatch(/user: "worker-bulk"/);
  expect(copy.read('prometheus/prometheus.yml')).toContain('job_name: worker-bulk');
  expect(copy.read('scripts/contract.sh')).toContain('TPS_POOLS="fast slow bulk"');

  const offset = await freeOffset();
  env = { TPS_STATE_DIR: path.join(copy.root, '.tps'), TPS_PORT_OFFSET: String(offset), TPS_MONITORING: 'off', NATS_URL: '', LOG_LEVEL: 'info' };
  // A loaded CI run's roles took over `up`'s default 60 s to get ready: what the test waits for is the pool, not the speed.
  const up = node(['cli/main.ts', 'up', '--timeout', '240']);
  expect(up.status, `${up.stdout}${up.stderr}\nsupervisor.log:\n${readLog(copy, 'supervisor.log')}`).toBe(0);
  expect(up.stdout).toMatch(/worker-bulk/);

  const ingress = `http://127.0.0.1:${8080 + offset}`;
  const accepted = await postJob(ingress, { type: 'bulk.digest', payload: {} });
  expect(accepted.status).toBe(202);
  const id = String(accepted.json.id);
  const done = await waitFor(async () => {
    const view = (await (await fetch(`${ingress}/jobs/${id}`)).json()) as { status?: string };
    return view.status === 'completed' || view.status === 'dead_lettered' ? view.status : undefined;
  }, 30_000, () => `job ${id} to finish`);
  expect(done).toBe('completed');
  const metrics = await (await fetch(`http://127.0.0.1:${9468 + offset}/metrics`)).text();
  expect(metrics).toMatch(/tps_jobs_processed_total\{pool="bulk",type="bulk\.digest",outcome="success"\} 1/);
}, 360_000);
