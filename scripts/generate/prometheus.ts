// Compose's Prometheus finds every role by DNS service discovery: Docker's DNS answers a service name
// with one A record per replica, so a scaled pool is scraped as that many targets. A canary's
// container (profile canary, platform/canary.ts) has a job of its own, so its name not resolving
// while it is not started touches no role's job, and is relabelled as an instance of its service's.
import { canaryName, canaryServices } from '#platform/canary.ts';
import { roleSpecs } from '#platform/roles.ts';

export function scrapeJobLines(): string[] {
  return [
    ...roleSpecs.flatMap((r) => [
      `  - job_name: ${r.name}`,
      `    dns_sd_configs: [{ names: [${r.name}], type: A, port: ${r.port}, refresh_interval: 10s }]`,
    ]),
    ...canaryServices.flatMap((service) => [
      `  - job_name: ${canaryName(service)}`,
      `    dns_sd_configs: [{ names: [${canaryName(service)}], type: A, port: ${roleSpecs.find((r) => r.name === service)?.port}, refresh_interval: 10s }]`,
      `    relabel_configs: [{ target_label: job, replacement: ${service} }]`,
    ]),
  ];
}
