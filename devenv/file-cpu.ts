// The CPU each test file costs, everything it starts included: with TPS_TEST_CPU_REPORT=<file>,
// vitest.config.ts loads this before every test file, which moves the file's process into a
// cpuacct cgroup of its own (cgroup v1; root), so every process it starts afterwards is counted
// there too (a role, nats-server, Prometheus, a `tps` command), wherever it is reparented. After the
// file, one JSON line is appended to the report: { file, group, cpuSeconds, wallSeconds } (group: the
// cgroup's name under cpuacct, gone once the file and all it started have ended).
// On a 2-core machine saturated by the run the wall time is the total CPU over two, so this, not
// a file's seconds, says where a shorter run has to come from (docs/testing.md).
import { appendFileSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export const cpuReportEnv = 'TPS_TEST_CPU_REPORT';
const cpuacctRoot = '/sys/fs/cgroup/cpuacct';

const report = process.env[cpuReportEnv];
const group = path.join(cpuacctRoot, `tps-test-file-${process.pid}`);
const startedAt = Date.now();
let file = '';
let counting = false;

// Vitest passes a hook its fixtures first (an object pattern it parses) and the file's suite second.
beforeAll(({}, suite) => {
  file = path.relative(process.cwd(), (suite as unknown as { file?: { filepath: string } }).file?.filepath ?? '?');
  if (!report) return;
  try {
    mkdirSync(group, { recursive: true });
    writeFileSync(path.join(group, 'cgroup.procs'), String(process.pid));
    counting = true;
  } catch (error) {
    console.warn(`${cpuReportEnv}: cannot count ${file}'s CPU (needs root and cgroup v1's cpuacct at ${cpuacctRoot}): ${(error as Error).message}`);
  }
});

afterAll(() => {
  if (!report || !counting) return;
  const cpuSeconds = Number(readFileSync(path.join(group, 'cpuacct.usage'), 'utf8')) / 1e9;
  appendFileSync(report, `${JSON.stringify({ file, group: path.basename(group), cpuSeconds: Number(cpuSeconds.toFixed(2)), wallSeconds: Number(((Date.now() - startedAt) / 1000).toFixed(1)) })}\n`);
  // The group goes once this process and what it started have left it: back to the root group, and
  // removed when empty (a process of the file still ending keeps it).
  writeFileSync(path.join(cpuacctRoot, 'cgroup.procs'), String(process.pid));
  if (readFileSync(path.join(group, 'cgroup.procs'), 'utf8').trim() === '') rmdirSync(group);
});
