// `tps chaos run ...` as a child process: its output as it comes, its exit, and the child itself
// (so a test can interrupt it).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '#platform/paths.ts';

export type RunningCli = { child: ChildProcess; /** stdout and stderr so far */ output(): string; exited: Promise<{ code: number | null; stdout: string; stderr: string }> };

const entry = path.join(projectRoot, 'tests', 'helpers', 'chaos-run-entry.ts');
const projectNode = path.join(projectRoot, '.tools', 'node24', 'node_modules', 'node', 'bin', 'node');
const node = existsSync(projectNode) ? projectNode : process.execPath;

export function chaosRun(args: string[], env: Record<string, string>, timeoutMs = 60_000): RunningCli {
  const child = spawn(node, ['--disable-warning=ExperimentalWarning', entry, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`tps chaos run ${args.join(' ')} timed out\n${stdout}\n${stderr}`)); }, timeoutMs);
    child.once('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
  return { child, output: () => `${stdout}${stderr}`, exited };
}
