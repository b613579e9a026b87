// Where load may go: loopback only unless the operator says otherwise, because a load generator
// pointed at someone else's server is an attack. And the target must answer before the run starts.
import { isIP } from 'node:net';

export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetError';
  }
}

export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./.test(host);
  return false;
}

/** The origin to load, or a TargetError saying what is wrong with the URL. */
export function checkTarget(url: string, allowRemote: boolean): string {
  let parsed: URL;
  try { parsed = new URL(url); } catch { throw new TargetError(`--url "${url}" is not a URL; e.g. http://127.0.0.1:8080`); }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TargetError(`--url must be http:// or https://, got ${parsed.protocol}`);
  if (!allowRemote && !isLoopback(parsed.hostname)) {
    throw new TargetError(`--url ${parsed.origin} is not on this machine; load goes to loopback addresses only (localhost, 127.0.0.1, ::1). Add --allow-remote if you own that server and mean it.`);
  }
  return parsed.origin;
}

/** GET /readyz; throws when nothing answers, returns the reason when it answers but is not ready. */
export async function probeTarget(origin: string, timeoutMs = 3_000): Promise<string | undefined> {
  let res: Response;
  try {
    res = await fetch(`${origin}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new TargetError(`the ingress at ${origin} is unreachable (${cause}); start the system with \`make up\`, or give --url`);
  }
  const text = await res.text().catch(() => '');
  return res.ok ? undefined : `the ingress at ${origin} answers but is not ready (HTTP ${res.status} ${text.slice(0, 200)})`;
}
