import { z } from 'zod';
import { loadConfig } from '#platform/config.ts';
import { createLogger } from '#platform/logger.ts';
import { connectNats } from '#platform/nats/connect.ts';
import { provision } from '#platform/nats/provision.ts';
import { declareTopology } from '#platform/nats/topology.ts';
import { parseFlags } from '../output.ts';

export const help = `
usage: tps provision [--json]

Creates the NATS streams, consumers and KV buckets of the TPS topology, or updates the ones whose
settings changed (queue capacities come from FAST_QUEUE_CAPACITY, SLOW_QUEUE_CAPACITY and
DLQ_CAPACITY). Running it again changes nothing. Uses NATS_URL (default nats://127.0.0.1:4222).

  --json   print the actions as JSON
`;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { json: { type: 'boolean' } }, z.object({ json: z.boolean().optional() }));
  const config = loadConfig();
  const logger = createLogger('tps', { ...config, log: { level: 'warn' } });
  const nc = await connectNats(config.nats, { name: 'tps-provision', logger });
  try {
    const actions = await provision(nc, declareTopology(config));
    if (values.json) {
      console.log(JSON.stringify(actions, null, 2));
    } else {
      for (const a of actions) {
        console.log(`${a.action.padEnd(9)} ${a.kind.padEnd(8)} ${a.name}${a.changes.length ? `  (${a.changes.join('; ')})` : ''}`);
      }
    }
    return 0;
  } finally {
    await nc.close();
  }
}
