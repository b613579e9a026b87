import { requireBinary } from '../binaries.ts';

export function findNatsServer(): string {
  return requireBinary('nats-server', 'Install it with `make bootstrap` (Debian: apt-get install nats-server).');
}
