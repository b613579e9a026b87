// `tps up`'s provisioning step: the topology with the sizes set live (queue-lever.ts), then what
// tps_control says runs of each canaried service (a promoted version, a canary under way), which
// the supervisor starts (canary-process.ts).
import { canaryServices, type CanaryService, type CanaryValue } from '#platform/canary.ts';
import type { Config } from '#platform/config.ts';
import { openControlStore } from '#platform/control/store.ts';
import type { Logger } from '#platform/logger.ts';
import { connectNats } from '#platform/nats/connect.ts';
import { provisionWithOverrides } from '#platform/nats/queue-lever.ts';
import { onceClusterFormed } from '#platform/nats/cluster-forming.ts';

export async function provisionTopology(config: Config, nats: Config['nats'], logger: Logger, say: (line: string) => void): Promise<Partial<Record<CanaryService, CanaryValue>>> {
  const nc = await connectNats(nats, { name: 'tps-supervisor', logger });
  try {
    const actions = await onceClusterFormed(() => provisionWithOverrides(nc, config));
    const changed = actions.filter((a) => a.action !== 'unchanged');
    say(`provisioned NATS topology (${changed.length ? changed.map((a) => `${a.action} ${a.name}`).join(', ') : 'already up to date'})`);
    // A reset consumer or a repaired stream means the broker lost writes (consumer-reset.ts,
    // stream-repair.ts): said in full.
    for (const a of actions.filter((x) => x.action === 'reset' || x.action === 'repaired')) say(`  ${a.name}: ${a.changes.join('; ')}`);
    const control = await openControlStore(nc);
    return Object.fromEntries(await Promise.all(canaryServices.map(async (s) => [s, await control.canary(s)] as const)));
  } finally {
    await nc.close();
  }
}
