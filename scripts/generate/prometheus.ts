// Compose's Prometheus finds every role by DNS service discovery: Docker's DNS answers a service name
// with one A record per replica, so a scaled pool is scraped as that many targets.
import { roleSpecs } from '#platform/roles.ts';

export function scrapeJobLines(): string[] {
  return roleSpecs.flatMap((r) => [
    `  - job_name: ${r.name}`,
    `    dns_sd_configs: [{ names: [${r.name}], type: A, port: ${r.port}, refresh_interval: 10s }]`,
  ]);
}
