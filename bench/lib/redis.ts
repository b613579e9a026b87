// A redis-server for one benchmark: free port, temp dir, no persistence.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireBinary } from '#platform/binaries.ts';
import { freePort } from './processes.ts';

export async function startRedis(): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const binary = requireBinary('redis-server', 'The BullMQ comparison needs Debian\'s redis-server.');
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tps-redis-'));
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  process.once('exit', () => child.kill('SIGKILL'));
  for (let i = 0; ; i++) {
    if (await ping(port)) break;
    if (i > 100) throw new Error('redis-server did not start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port,
    pid: child.pid ?? 0,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => { socket.destroy(); resolve(d.toString().startsWith('+PONG')); });
    socket.once('error', () => resolve(false));
  });
}
