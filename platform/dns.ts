// How our processes turn a host name into addresses where it matters (the NATS connection, the
// calls down the service chain, the export of spans): the hosts file, then DNS queries on the
// event loop (c-ares) with a deadline, rather than `dns.lookup`. A lookup runs getaddrinfo on
// libuv's thread pool (four threads), where it cannot be abandoned; Node waits for one in flight
// when the process exits, even in `process.exit`, and while lookups hang the pool's other work
// waits behind them. When a name stops answering (Docker's resolver for a stopped container, on a
// machine whose DNS servers its containers cannot reach) each lookup took 10 s: a role stopped
// with NATS gone took 10 s more to exit, and service-a's calls to a stopped service-b held the
// pool so long that its span exports to a running Jaeger timed out, their traces lost.
import { lookup as systemLookupOf, Resolver } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { isIP, type LookupFunction } from 'node:net';

export type ResolveOptions = {
  /** DNS servers to ask instead of the system's (`/etc/resolv.conf`), as `ip` or `ip:port`. */
  readonly servers?: readonly string[];
  /** The whole resolution's limit; its queries are cancelled then. */
  readonly deadlineMs?: number;
  /** Read before DNS is asked, as getaddrinfo does ("hosts: files dns"). */
  readonly hostsFile?: string;
  /** Ends the resolution (it fails) when its answer is no longer wanted. */
  readonly signal?: AbortSignal;
};

/** Long enough for a slow resolver, short against a reconnect loop's patience. */
export const resolveDeadlineMs = 5_000;
const queryTimeoutMs = 1_000;

/** A name DNS has no record for may still be known to the system's other sources (mDNS, ...). */
const notInDns = new Set(['ENOTFOUND', 'ENODATA']);

/** The addresses of `host`, IPv4 first; an address is returned as it is. */
export async function resolveHost(host: string, options: ResolveOptions = {}): Promise<string[]> {
  if (isIP(host)) return [host];
  const listed = await fromHostsFile(host, options.hostsFile ?? '/etc/hosts');
  if (listed.length > 0) return listed;
  const deadlineMs = options.deadlineMs ?? resolveDeadlineMs;
  const resolver = new Resolver({ timeout: queryTimeoutMs, tries: 3 });
  if (options.servers) resolver.setServers([...options.servers]);
  let late = false;
  const cancel = setTimeout(() => { late = true; resolver.cancel(); }, deadlineMs);
  const unwanted = () => resolver.cancel();
  options.signal?.addEventListener('abort', unwanted, { once: true });
  // Both families are asked at once, as getaddrinfo does; IPv4 addresses are enough to go on
  // with, so an AAAA query a resolver leaves unanswered does not hold the connection up.
  const families = [resolver.resolve4(host), resolver.resolve6(host)];
  for (const family of families) family.catch(() => {});
  const codes: string[] = [];
  try {
    for (const family of families) {
      try {
        const addresses = await family;
        if (addresses.length > 0) return addresses;
        codes.push('ENODATA');
      } catch (err) {
        codes.push(errorCode(err));
      }
    }
    if (codes.every((code) => notInDns.has(code))) return await systemLookup(host);
    // EAI_AGAIN, as getaddrinfo says "no answer for now": a caller may try again.
    throw Object.assign(new Error(`cannot resolve "${host}": ${describe(codes, late ? deadlineMs : undefined)}`), { code: 'EAI_AGAIN', hostname: host });
  } finally {
    clearTimeout(cancel);
    options.signal?.removeEventListener('abort', unwanted);
    resolver.cancel();
  }
}

/** The addresses a hosts file gives the name (`localhost`, Docker's `--add-host`), IPv4 first. */
async function fromHostsFile(host: string, path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const name = host.toLowerCase();
  const addresses = text.split('\n').flatMap((line) => {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    return address && isIP(address) && names.some((n) => n.toLowerCase() === name) ? [address] : [];
  });
  return [...addresses.filter((a) => isIP(a) === 4), ...addresses.filter((a) => isIP(a) === 6)];
}

/** getaddrinfo, once DNS has answered that it does not know the name: quick, then. */
async function systemLookup(host: string): Promise<string[]> {
  const found = await systemLookupOf(host, { all: true });
  return found.map((entry) => entry.address);
}

function errorCode(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'unknown';
}

/** `deadlineMs`: the deadline that cancelled the queries, if one did. */
function describe(codes: readonly string[], deadlineMs: number | undefined): string {
  if (deadlineMs !== undefined) return `no answer from DNS within ${deadlineMs / 1000} s`;
  if (codes.includes('ECANCELLED')) return 'cancelled, no longer wanted';
  if (codes.includes('ETIMEOUT')) return 'DNS did not answer';
  return `DNS answered ${[...new Set(codes)].join(', ')}`;
}

/** `resolveHost` as a socket's `lookup` (net.connect, an http.Agent, undici's `connect`). */
export const lookup: LookupFunction = lookupVia({});

/** A socket's `lookup` by `resolveHost` with these options (a test's DNS server). */
export function lookupVia(resolveOptions: ResolveOptions): LookupFunction {
  return (hostname, options, callback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family || 0;
    resolveHost(hostname, resolveOptions).then((addresses) => {
      const found = addresses.map((address) => ({ address, family: isIP(address) })).filter((a) => family === 0 || a.family === family);
      if (found.length === 0) {
        callback(Object.assign(new Error(`cannot resolve "${hostname}": no IPv${family} address`), { code: 'ENOTFOUND', hostname }), '', 0);
      } else if (options.all) {
        // With `all`, net (its address family selection) takes every address at once.
        (callback as unknown as (err: null, addresses: Array<{ address: string; family: number }>) => void)(null, found);
      } else {
        callback(null, found[0]!.address, found[0]!.family);
      }
    }, (err: NodeJS.ErrnoException) => callback(err, '', 0));
  };
}
