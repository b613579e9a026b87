// A role run as its own process by `tps run <role>` (bin/tps, with the telemetry preload and the
// compile cache), its JSON log lines collected as they come, for tests that read what a real role
// process says.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type RoleProcess = {
  /** The JSON lines of its stdout so far. */
  readonly lines: Array<Record<string, unknown>>;
  stderr(): string;
  /** Its exit code, once it exits. */
  readonly exited: Promise<number | null>;
  stop(): void;
  /** SIGKILL, if it still runs (a test's cleanup). */
  kill(): void;
};

const tps = fileURLToPath(new URL('../bin/tps', import.meta.url));

/** `wrap`: a command the role's is run by, which ends by exec-ing it (e.g. `unshare` into a
 * mount namespace of the test's own), so signals still reach the role. */
export function startRoleProcess(role: string, env: NodeJS.ProcessEnv, options: { wrap?: readonly string[] } = {}): RoleProcess {
  const [command, ...args] = [...(options.wrap ?? []), tps, 'run', role];
  const child = spawn(command!, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  let buffered = '';
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const complete = buffered.split('\n');
    buffered = complete.pop() ?? '';
    for (const line of complete) if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    lines, stderr: () => stderr, exited,
    stop: () => child.kill('SIGTERM'),
    kill: () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); },
  };
}
