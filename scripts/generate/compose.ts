// The parts of docker-compose.yml and compose.env.example that follow the role and pool tables: the
// NATS passwords, one worker service per pool, and the tools service's scrape targets.
import { passwordVariable, natsUserNames } from '#platform/nats/permissions.ts';
import { poolDefinitions, poolNames, workerRole, type Pool } from '#platform/pools.ts';
import { roleSpecs } from '#platform/roles.ts';

/** The lab password a compose service falls back to without a .env (tests/compose.test.ts). */
export const labPassword = (user: string): string => `tps-lab-${user}`;

export function natsPasswordLines(indent: string): string[] {
  return natsUserNames.map((user) => `${indent}${passwordVariable(user)}: \${${passwordVariable(user)}:-${labPassword(user)}}`);
}

function workerService(pool: Pool): string[] {
  const def = poolDefinitions[pool];
  const role = workerRole(pool);
  return [
    `  ${role}:`,
    '    <<: *role',
    `    command: ["run", "${role}"]`,
    `    # No container_name and no host port: \`docker compose up --scale ${role}=4\` works.`,
    '    deploy:',
    `      replicas: ${def.composeReplicas}`,
    '      resources:',
    '        limits: { memory: 256m }',
    '    environment:',
    '      <<: *role-env',
    `      NATS_USER: ${role}`,
    `      NATS_PASSWORD: \${${passwordVariable(role)}:-${labPassword(role)}}`,
    '    depends_on:',
    '      <<: *role-deps',
    '      service-a: { condition: service_healthy }',
    '    healthcheck:',
    `      test: ["CMD", "node", "-e", "fetch('http://127.0.0.1:${def.port}/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]`,
    '      <<: *ready',
  ];
}

export function workerServiceLines(): string[] {
  return poolNames.flatMap((pool, i) => [...(i > 0 ? [''] : []), ...workerService(pool)]);
}

/** `tps status` inside the tools container, and the console, reach every role by its service name
 * (the anchor lets the console's service reuse the line). */
export function targetsLine(indent: string): string[] {
  return [`${indent}TPS_TARGETS: &scrape-targets ${roleSpecs.map((r) => `${r.name}=http://${r.name}:${r.port}`).join(',')}`];
}

/** docker-compose.cluster.yml: every pool's worker service given the cluster's servers. */
export function clusterWorkerLines(): string[] {
  return poolNames.map((pool) => `  ${workerRole(pool)}: { environment: *cluster-env }`);
}

export function envExampleLines(): string[] {
  return natsUserNames.map((user) => `${passwordVariable(user)}=<random>`);
}
