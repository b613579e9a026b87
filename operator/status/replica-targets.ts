// A role reached by a host name may be several processes: Docker's DNS answers a compose service
// name with one address per replica (`--scale worker-fast=3`), as Prometheus's dns_sd_configs
// reads it. Status reads every one, so replicas are counted and none is missed; addresses and
// names that do not resolve are kept as given (the scrape then reports the error).
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** A role's metrics endpoint, as status reads it. */
export type Target = { role: string; url: string };

export async function everyAddress(targets: readonly Target[]): Promise<Target[]> {
  const expanded = await Promise.all(targets.map(async (target) => {
    const url = new URL(target.url);
    if (isIP(url.hostname.replace(/^\[|\]$/g, '')) || url.hostname === 'localhost') return [target];
    const addresses = await lookup(url.hostname, { all: true, family: 4 }).catch(() => []);
    if (addresses.length <= 1) return [target];
    return addresses.map(({ address }) => {
      const one = new URL(target.url);
      one.hostname = address;
      return { role: target.role, url: one.origin + one.pathname.replace(/\/+$/, '') };
    });
  }));
  return expanded.flat();
}
