// Child processes for benchmark targets, so the load generator and the server under test do not
// share an event loop.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export { unusedPort as freePort } from '#devenv/ports.ts';

export type Target = { url: string; pid: number; stop(): Promise<void> };

/** CPU time (user + system) a process has used so far, in milliseconds (Linux /proc). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

export async function startTarget(args: string[], env: Record<string, string>, readyUrl: string): Promise<Target> {
  const child: ChildProcess = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  // A benchmark that dies must not leave its targets running.
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(readyUrl)).ok) break;
    } catch { /* not up yet */ }
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`${args.join(' ')} not ready at ${readyUrl}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: new URL(readyUrl).origin,
    pid: child.pid ?? 0,
    async stop() {
      process.removeListener('exit', kill);
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Runs a benchmark helper to completion and returns the JSON it printed last. */
export function runForResult<T>(args: string[], env: Record<string, string> = {}): { result: Promise<T> } {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  process.once('exit', () => child.kill('SIGKILL'));
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  return {
    result: new Promise<T>((resolve, reject) => {
      child.once('exit', (code) => {
        const last = out.trim().split('\n').at(-1) ?? '';
        try { resolve(JSON.parse(last) as T); } catch { reject(new Error(`${args.join(' ')} exited ${code} without a result: ${out}`)); }
      });
    }),
  };
}
