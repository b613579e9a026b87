// `tps up`'s provisioning step: the topology with the sizes set live (queue-lever.ts), then what
// tps_control says runs of each canaried service (a promoted version, a canary under way), which
// the supervisor starts (canary-process.ts).
import { canaryServices, type CanaryService, type CanaryValue } from '#platform/canary.ts';
import type { Config } from '#platform/config.ts';
import { openControlStore } from '#platform/control/store.ts';
import type { Logger } from '#platform/logger.ts';
import { connectNats } from '#platform/nats/connect.ts';
import { provisionWithOverrides } from '#platform/nats/queue-lever.ts';
import { JetStreamApiError } from '@nats-io/jetstream';
import { isTransientNatsError } from '#platform/nats/stream-errors.ts';

/** nats-server's "no suitable peers for placement" (10005): a three-copy stream asked for before
 * the meta leader has heard from every node of a cluster that is still forming. */
const noPeersYet = (err: unknown) => err instanceof JetStreamApiError && (err.code === 10005 || /no suitable peers for placement/.test(err.message));

/** A cluster just started answers "temporarily unavailable" until its nodes chose a JetStream
 * leader, and has no room for three copies until every node has joined: both pass within seconds. */
async function untilAnswered<T>(work: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await work();
    } catch (err) {
      if (Date.now() > deadline || !(isTransientNatsError(err) || noPeersYet(err))) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

export async function provisionTopology(config: Config, nats: Config['nats'], logger: Logger, say: (line: string) => void): Promise<Partial<Record<CanaryService, CanaryValue>>> {
  const nc = await connectNats(nats, { name: 'tps-supervisor', logger });
  try {
    const actions = await untilAnswered(() => provisionWithOverrides(nc, config));
    const changed = actions.filter((a) => a.action !== 'unchanged');
    say(`provisioned NATS topology (${changed.length ? changed.map((a) => `${a.action} ${a.name}`).join(', ') : 'already up to date'})`);
    const control = await openControlStore(nc);
    return Object.fromEntries(await Promise.all(canaryServices.map(async (s) => [s, await control.canary(s)] as const)));
  } finally {
    await nc.close();
  }
}
