// What TPS Lab holds in memory doing nothing: every role started by the supervisor as `make up`
// starts them (with bin/tps's compile cache, so TypeScript is not stripped again in each process),
// left idle, then the resident memory (VmRSS) and the V8 heap in use of each process. The issue's
// goal is for the seven roles of the pipeline (the console left out) together: under 600 MB.
// Summed RSS counts the pages every role shares (the node binary, about 50 MB of it) once per
// process; the proportional set size (PSS: each shared page divided among the processes mapping
// it) adds up to what the roles take from the machine together, so both are reported. The idle
// time is longer than one window of platform/memory-at-rest.ts (5 s), so what is measured is a role
// at rest, after it gave back the young generation its start grew.
//   node bench/idle-memory.bench.ts [--idle 15]
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/args.ts';
import { startNatsServer } from '#devenv/nats-server.ts';
import { metricValue, startStack } from '#devenv/stack.ts';
import { projectRoot } from '#platform/paths.ts';
import { defaultPorts } from '#platform/ports.ts';

const args = benchArgs(import.meta.url, { idle: { type: 'string' } });
const idleSeconds = args.whole('idle', 15);
// As bin/tps does: the roles load their compiled code from the cache (the first run fills it).
process.env.NODE_COMPILE_CACHE ??= path.join(projectRoot, '.tps', 'cache', 'node-compile');

const kbField = (file: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'))?.[1] ?? 0) / 1024;
const rssMb = (pid: number) => kbField(`/proc/${pid}/status`, 'VmRSS');
const pssMb = (pid: number) => kbField(`/proc/${pid}/smaps_rollup`, 'Pss');
const fileBackedMb = (pid: number) => kbField(`/proc/${pid}/status`, 'RssFile');
const round = (mb: number) => Math.round(mb * 10) / 10;

const nats = await startNatsServer();
const stack = await startStack(nats.url, { LOG_LEVEL: 'warn', OTEL_SDK_DISABLED: 'true' }, { console: true });
try {
  console.log(`every role ready; idle for ${idleSeconds} s`);
  await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
  const roles: Record<string, { rssMb: number; pssMb: number; fileBackedMb: number; heapUsedMb: number }> = {};
  for (const name of stack.supervisor.processNames()) {
    const pid = stack.supervisor.pidOf(name);
    if (!pid || !(name in defaultPorts)) continue;
    const heap = await metricValue(stack.url(name as keyof typeof defaultPorts), /^nodejs_heap_size_used_bytes /);
    roles[name] = { rssMb: round(rssMb(pid)), pssMb: round(pssMb(pid)), fileBackedMb: round(fileBackedMb(pid)), heapUsedMb: round(heap / 1048576) };
    const r = roles[name];
    console.log(`${name.padEnd(12)} RSS ${r.rssMb.toFixed(1).padStart(6)} MB (file-backed ${r.fileBackedMb.toFixed(1)})   PSS ${r.pssMb.toFixed(1).padStart(6)} MB   heap used ${r.heapUsedMb.toFixed(1).padStart(5)} MB`);
  }
  const sum = (names: string[], field: 'rssMb' | 'pssMb' = 'rssMb') => round(names.reduce((total, name) => total + (roles[name]?.[field] ?? 0), 0));
  const pipelineRoles = Object.keys(roles).filter((name) => name !== 'console');
  const summary = {
    date: new Date().toISOString(), node: process.version, idleSeconds, roles,
    /** The seven roles of the pipeline (goal: under 600 MB together). */
    pipelineRolesRssMb: sum(pipelineRoles), pipelineRoles: pipelineRoles.length,
    /** What the seven take from the machine together: shared pages counted once. */
    pipelineRolesPssMb: sum(pipelineRoles, 'pssMb'),
    allRolesRssMb: sum(Object.keys(roles)),
    natsServerRssMb: round(((await (await fetch(`http://127.0.0.1:${nats.monitorPort}/varz`)).json()) as { mem: number }).mem / 1048576),
  };
  console.log(`\n${summary.pipelineRoles} pipeline roles: RSS ${summary.pipelineRolesRssMb} MB summed (goal < 600 MB), PSS ${summary.pipelineRolesPssMb} MB; with the console ${summary.allRolesRssMb} MB; nats-server ${summary.natsServerRssMb} MB`);
  const out = fileURLToPath(new URL('./results/memory-latest.json', import.meta.url));
  writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`written to ${out}`);
} finally {
  await stack.stop();
  await nats.dispose();
}
