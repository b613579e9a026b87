// Prints nats/nats.conf, the compose NATS configuration, from the one permissions table:
//   node scripts/render-nats-conf.ts > nats/nats.conf
import { renderComposeNatsConfig } from '#platform/nats/server-config.ts';

process.stdout.write(renderComposeNatsConfig());
