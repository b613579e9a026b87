// A role reached by a host name may be several processes: Docker's DNS answers a compose service
// name with one address per replica (`--scale worker-fast=3`), as Prometheus's dns_sd_configs
// reads it. Status reads every one, so replicas are counted and none is missed; addresses and
// names that do not resolve are kept as given (the scrape then reports the error). Names are
// resolved by platform/dns.ts, not getaddrinfo (see platform/http/bounded-request.ts).
import { isIP } from 'node:net';
import { resolveHost } from '#platform/dns.ts';

/** A role's metrics endpoint, as status reads it. */
export type Target = { role: string; url: string };

/** A scrape's whole time, the resolution of its name included. */
export const scrapeTimeoutMs = 2_000;

export async function everyAddress(targets: readonly Target[]): Promise<Target[]> {
  const expanded = await Promise.all(targets.map(async (target) => {
    const url = new URL(target.url);
    if (isIP(url.hostname.replace(/^\[|\]$/g, '')) || url.hostname === 'localhost') return [target];
    // Within a scrape's own 2 s: a name nobody answers for is reported by the scrape that follows.
    const addresses = (await resolveHost(url.hostname, { deadlineMs: scrapeTimeoutMs }).catch(() => [])).filter((address) => isIP(address) === 4);
    if (addresses.length <= 1) return [target];
    return addresses.map((address) => {
      const one = new URL(target.url);
      one.hostname = address;
      return { role: target.role, url: one.origin + one.pathname.replace(/\/+$/, '') };
    });
  }));
  return expanded.flat();
}
