// A short HTTP exchange with a small answer (a role's /metrics, an admin API call, a Jaeger query)
// with the host name resolved by platform/dns.ts: how `tps status`, the console and the labs'
// probes read the roles, and how the console calls the admin API and Jaeger. fetch would resolve
// the name with getaddrinfo on libuv's four threads: in compose, with a container stopped and no
// outside DNS, each call to it held a thread 10 s (past the call's own limit), and a console
// scraping every few seconds soon had every thread held and every other role unread.
import { deadlineSignal } from '../deadline.ts';
import { lookupVia } from '../dns.ts';
import { Agent } from './undici-pool.ts';

/** What a name may take to resolve: a scrape's whole time, so none outlives the command. */
const resolveMs = 2_000;
// Idle connections do not keep a process alive (undici unreferences them), so a command ends.
const agent = new Agent({ connect: { lookup: lookupVia({ deadlineMs: resolveMs }) }, keepAliveTimeout: 10_000 });

export type BoundedRequest = { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string; timeoutMs: number };
export type TextAnswer = { status: number; text: string; header(name: string): string | undefined };

/** Fails with a TimeoutError after `timeoutMs`, also while the name is still being resolved or
 * the connection made (undici honours the signal only once the request is sent). */
export async function boundedRequest(url: string, req: BoundedRequest): Promise<TextAnswer> {
  const target = new URL(url);
  const { signal, clear } = deadlineSignal(req.timeoutMs);
  const exchange = (async (): Promise<TextAnswer> => {
    const res = await agent.request({
      origin: target.origin, path: `${target.pathname}${target.search}`, method: req.method ?? 'GET', signal,
      ...(req.headers ? { headers: req.headers } : {}), ...(req.body !== undefined ? { body: req.body } : {}),
    });
    const text = await res.body.text();
    const header = (name: string) => {
      const value = res.headers[name.toLowerCase()];
      return Array.isArray(value) ? value[0] : value;
    };
    return { status: res.statusCode, text, header };
  })();
  exchange.catch(() => {});
  const timedOut = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
  try {
    return await Promise.race([exchange, timedOut]);
  } finally {
    clear();
  }
}

/** A GET of a small text resource (a role's /metrics). */
export const getText = (url: string, timeoutMs: number): Promise<TextAnswer> => boundedRequest(url, { timeoutMs });
