// What the running processes apply of each live parameter: every process reports the value in
// force as tps_config_parameter{name} and whether it is an override (platform/params/follow.ts).
// One reading for `tps config get` and for `tps tune`, which waits until a change is in force.
import { metrics } from '#platform/metrics.ts';
import { scrapeAll, type Target } from './collect.ts';

/** One process's report of one parameter. */
export type InForce = { role: string; value: number; overridden: boolean };

/** Each parameter's reports, from one scrape of every role (every replica). */
export async function parametersInForce(targets: readonly Target[]): Promise<Map<string, InForce[]>> {
  const found = new Map<string, InForce[]>();
  for (const { target, samples } of await scrapeAll(targets)) {
    const overridden = new Set(samples.filter((s) => s.name === metrics.configParameterOverridden.name && s.value === 1).map((s) => s.labels.name));
    for (const s of samples.filter((x) => x.name === metrics.configParameter.name)) {
      const name = s.labels.name ?? '';
      found.set(name, [...(found.get(name) ?? []), { role: target.role, value: s.value, overridden: overridden.has(name) }]);
    }
  }
  return found;
}
