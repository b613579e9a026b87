// Runs the real `tps` command as a user would, capturing its output and exit code.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '#platform/paths.ts';

export type CliResult = { code: number | null; stdout: string; stderr: string };

export const tpsBin = path.join(projectRoot, 'bin', 'tps');

export function tps(args: string[], env: Record<string, string> = {}, opts: { timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(tpsBin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`tps ${args.join(' ')} timed out\n${stdout}\n${stderr}`)); }, opts.timeoutMs ?? 60_000);
    child.once('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}
