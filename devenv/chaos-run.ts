// `tps chaos run ...` as a child process: its output as it comes, its exit, and the child itself
// (so a test can interrupt it).
import { spawn, type ChildProcess } from 'node:child_process';
import { tpsBin } from './cli.ts';

export type RunningCli = { child: ChildProcess; /** stdout and stderr so far */ output(): string; exited: Promise<{ code: number | null; stdout: string; stderr: string }> };

export function chaosRun(args: string[], env: Record<string, string>, timeoutMs = 60_000): RunningCli {
  const child = spawn(tpsBin, ['chaos', 'run', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
