import { z } from 'zod';
import { loadConfig } from '#platform/config.ts';
import { createLogger } from '#platform/logger.ts';
import { connectNats } from '#platform/nats/connect.ts';
import type { ProvisionAction } from '#platform/nats/provision.ts';
import { onceClusterFormed } from '#platform/nats/cluster-forming.ts';
import { provisionWithOverrides, queueLeverName, queueSizeRange, setQueueSize } from '#platform/nats/queue-lever.ts';
import { isPool, poolNames, type Pool } from '#platform/pools.ts';
import { parseFlags, UsageError } from '../output.ts';
import { operator } from '../session.ts';

export const help = `
usage: tps provision [--queue POOL=N|default] [--force STREAM=N,...] [--json]

Creates the NATS streams, consumers and KV buckets of the TPS topology, or updates the ones whose
settings changed (queue capacities come from FAST_QUEUE_CAPACITY, SLOW_QUEUE_CAPACITY and
DLQ_CAPACITY, unless a queue size was set live). Running it again changes nothing. Uses NATS_URL
(default nats://127.0.0.1:4222).

--queue sets a pool's queue size live (what \`tps config set pool.<pool>.queue N\` does): the
stream is provisioned with it, and the size is kept in tps_control, so every later provisioning
(tps up, this command, compose's provision service) keeps it; \`default\` gives the configured size
back. Each change is an audit event. The ingress refuses at the new size within QUEUE_POLL_MS.

A change that would delete messages a stream holds (a capacity below its depth, a shorter age) is
refused before anything changes, with the numbers and how to drain: accepted jobs are never lost
to a configuration change by accident.

A consumer that has delivered messages past its stream's last one (a broker that lost its last
writes, e.g. its host lost power) would never deliver the jobs that get those sequences next: it
is made again, a job queue's from its first message, and printed as \`reset\` with what was found.
A stream such a broker (nats-server 2.9) left counting lost sequences as deleted would lose the
messages given them next: it is purged, what it held put back in order through a holding stream
(TPS_REPAIR), and printed as \`repaired\`; so is a job queue that got back messages its consumer
had acknowledged (the broker lost their deletes), which would fill it for good: they are removed.
All of it runs before anything writes to the broker.

  --queue POOL=N         set the pool's queue size live (1 to 10000000), or POOL=default
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

/** "fast=2000" -> { pool: 'fast', capacity: 2000 }; "fast=default" -> capacity undefined. */
export function parseQueue(spec: string): { pool: Pool; capacity: number | undefined } {
  const m = /^([a-z]+)=(\d+|default)$/.exec(spec.trim());
  if (!m || !isPool(m[1] ?? '')) throw new UsageError(`--queue: "${spec}" is not POOL=N or POOL=default with POOL one of ${poolNames.join(', ')} (e.g. --queue fast=2000)`);
  const capacity = m[2] === 'default' ? undefined : Number(m[2]);
  if (capacity !== undefined && (capacity < queueSizeRange.min || capacity > queueSizeRange.max)) throw new UsageError(`--queue: a queue size from ${queueSizeRange.min} to ${queueSizeRange.max}; got ${capacity}`);
  return { pool: m[1] as Pool, capacity };
}

function print(actions: readonly ProvisionAction[], json: boolean, extra?: object): void {
  if (json) {
    console.log(JSON.stringify(extra ? { ...extra, actions } : actions, null, 2));
    return;
  }
  for (const a of actions) console.log(`${a.action.padEnd(9)} ${a.kind.padEnd(8)} ${a.name}${a.changes.length ? `  (${a.changes.join('; ')})` : ''}`);
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { json: { type: 'boolean' }, force: { type: 'string' }, queue: { type: 'string' } },
    z.object({ json: z.boolean().optional(), force: z.string().optional(), queue: z.string().optional() }));
  const force = parseForce(values.force);
  const queue = values.queue !== undefined ? parseQueue(values.queue) : undefined;
  const config = loadConfig();
  const logger = createLogger('tps', { ...config, log: { level: 'warn' } });
  const nc = await connectNats(config.nats, { name: 'tps-provision', logger });
  try {
    if (!queue) {
      print(await onceClusterFormed(() => provisionWithOverrides(nc, config, { force })), values.json ?? false);
      return 0;
    }
    const change = await setQueueSize(nc, config, queue.pool, queue.capacity, operator(), { force });
    print(change.actions, values.json ?? false, { pool: change.pool, capacity: change.capacity, previous: change.previous });
    if (!values.json) console.log(`${queueLeverName(change.pool)}: ${change.previous} -> ${change.capacity}${queue.capacity === undefined ? ' (the configured size)' : ''}; the ingress refuses at it within ${config.ingress.queuePollMs} ms`);
    return 0;
  } finally {
    await nc.close();
  }
}
