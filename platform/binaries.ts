// Locates optional external programs (nats-server, prometheus, promtool, grafana, jaeger, k6).
// Debian puts some of them in /usr/sbin, which a non-root PATH leaves out.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const extraDirs = ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/usr/bin', '/usr/share/grafana/bin'];

export function findBinary(name: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const fromPath = found.status === 0 ? found.stdout.trim() : '';
  if (fromPath) return fromPath;
  return extraDirs.map((dir) => `${dir}/${name}`).find((candidate) => existsSync(candidate));
}

export function requireBinary(name: string, installHint: string): string {
  const binary = findBinary(name);
  if (!binary) throw new Error(`${name} is not installed. ${installHint}`);
  return binary;
}
