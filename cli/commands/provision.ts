import { z } from 'zod';
import { loadConfig } from '#platform/config.ts';
import { createLogger } from '#platform/logger.ts';
import { connectNats } from '#platform/nats/connect.ts';
import { provision } from '#platform/nats/provision.ts';
import { declareTopology } from '#platform/nats/topology.ts';
import { parseFlags, UsageError } from '../output.ts';

export const help = `
usage: tps provision [--force STREAM=N,...] [--json]

Creates the NATS streams, consumers and KV buckets of the TPS topology, or updates the ones whose
settings changed (queue capacities come from FAST_QUEUE_CAPACITY, SLOW_QUEUE_CAPACITY and
DLQ_CAPACITY). Running it again changes nothing. Uses NATS_URL (default nats://127.0.0.1:4222).

A change that would delete messages a stream holds (a capacity below its depth, a shorter age) is
refused before anything changes, with the numbers and how to drain: accepted jobs are never lost
to a configuration change by accident.

  --force STREAM=N,...   let the update delete up to N messages of STREAM (the number the
                         refusal names), e.g. --force JOBS_FAST=50
  --json                 print the actions as JSON
`;

/** "JOBS_FAST=50,DLQ=3" -> { JOBS_FAST: 50, DLQ: 3 } */
export function parseForce(spec: string | undefined): Record<string, number> {
  if (spec === undefined) return {};
  const force: Record<string, number> = {};
  for (const pair of spec.split(',')) {
    const m = /^([A-Za-z0-9_-]+)=(\d+)$/.exec(pair.trim());
    if (!m) throw new UsageError(`--force: "${pair}" is not STREAM=N (e.g. JOBS_FAST=50)`);
    force[m[1] as string] = Number(m[2]);
  }
  return force;
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { json: { type: 'boolean' }, force: { type: 'string' } },
    z.object({ json: z.boolean().optional(), force: z.string().optional() }));
  const force = parseForce(values.force);
  const config = loadConfig();
  const logger = createLogger('tps', { ...config, log: { level: 'warn' } });
  const nc = await connectNats(config.nats, { name: 'tps-provision', logger });
  try {
    const actions = await provision(nc, declareTopology(config), { force });
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
