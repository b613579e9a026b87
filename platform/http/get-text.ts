// A GET of a small text resource (a role's /metrics) with the host name resolved by
// platform/dns.ts: how `tps status`, the console and the labs' probes read every role. fetch would
// resolve it with getaddrinfo on libuv's four threads: in compose, with a role's container stopped
// and no outside DNS, each scrape of it held a thread 10 s (past the scrape's own 2 s), and a
// console scraping every few seconds soon had every thread held and every other role unread.
import { deadlineSignal } from '../deadline.ts';
import { lookupVia } from '../dns.ts';
import { Agent } from './undici-pool.ts';

/** What a name may take to resolve: a scrape's whole time, so none outlives the command. */
const resolveMs = 2_000;
// Idle connections do not keep a process alive (undici unreferences them), so a command ends.
const agent = new Agent({ connect: { lookup: lookupVia({ deadlineMs: resolveMs }) }, keepAliveTimeout: 10_000 });

/** Fails with a TimeoutError after `timeoutMs`, also while the name is still being resolved or
 * the connection made (undici honours the signal only once the request is sent). */
export async function getText(url: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  const target = new URL(url);
  const { signal, clear } = deadlineSignal(timeoutMs);
  const read = (async () => {
    const res = await agent.request({ origin: target.origin, path: `${target.pathname}${target.search}`, method: 'GET', signal });
    return { status: res.statusCode, text: await res.body.text() };
  })();
  read.catch(() => {});
  const timedOut = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
  try {
    return await Promise.race([read, timedOut]);
  } finally {
    clear();
  }
}
