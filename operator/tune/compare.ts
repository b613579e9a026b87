// The grader's own run of lab 3.2: the settings a learner arrived at against the lab's starting
// point, each under the same open-model load and measured as `tps tune` measures a value. The
// starting point is every live parameter at its start-up value, each pool's slots as the lab set
// them and each queue at its configured size; the learner's settings are whatever differs from
// that now. The baseline settings are applied for the first run, the learner's are put back for
// the second, and they are back whatever happens.
import { poolDefinitions, poolNames } from '#platform/pools.ts';
import { findTunedLever, type LeverSources, type TunedLever } from './levers.ts';
import { better, measure, TuneError, warmUpMs, type RunOptions, type TuneGoal, type TuneRow } from './tune.ts';

/** One lever away from the lab's starting point; undefined: the start-up value. */
export type Setting = { name: string; baseline: number | undefined; final: number | undefined };

export type Comparison = {
  settings: Setting[]; goal: TuneGoal; rate: number; durationMs: number;
  baseline: TuneRow; final: TuneRow;
  /** The goal's change from the baseline run to the final one, as a share (0.15: 15 % better). */
  improvement: number;
};

/** What differs now from the starting point: parameter overrides, slots, queue sizes set live. */
export async function changedSettings(s: LeverSources, startSlots: Readonly<Record<string, number>>): Promise<Setting[]> {
  const parameters = (await s.params.list()).flatMap((p) => (p.override ? [{ name: p.name, baseline: undefined, final: p.override.value }] : []));
  const pools = await Promise.all(poolNames.map(async (pool) => {
    const start = startSlots[pool] ?? poolDefinitions[pool].slots.initial;
    const slots = (await s.control.slots(pool))?.slots ?? poolDefinitions[pool].slots.initial;
    const queue = (await s.control.queue(pool))?.capacity;
    return [
      ...(slots !== start ? [{ name: `pool.${pool}.slots`, baseline: start, final: slots }] : []),
      ...(queue !== undefined ? [{ name: `pool.${pool}.queue`, baseline: undefined, final: queue }] : []),
    ];
  }));
  return [...parameters, ...pools.flat()];
}

/** The goal's change from `base` to `final` as a share of the baseline (positive: better). */
export function improvement(goal: TuneGoal, base: TuneRow, final: TuneRow): number {
  const [b, f] = [better[goal](base), better[goal](final)];
  return b === 0 ? (f === b ? 0 : Math.sign(f - b)) : (f - b) / Math.abs(b);
}

type CompareOptions = RunOptions & { settings: readonly Setting[]; goal: TuneGoal; levers: LeverSources; progress?: (line: string) => void };

const inWords = (lever: TunedLever, value: number | undefined) => (value === undefined ? 'start-up' : lever.show(value));

/** A warm-up, the baseline run with the starting point's settings, then the run with the learner's. */
export async function compareSettings(opts: CompareOptions): Promise<Comparison> {
  if (opts.settings.length === 0) throw new TuneError('nothing differs from the starting point: no parameter is set, and every pool has the slots and queue it started with');
  const levers = opts.settings.map((setting) => {
    const lever = findTunedLever(setting.name, opts.levers);
    if (!lever) throw new TuneError(`${setting.name} is not a lever the grader can set`);
    return { setting, lever };
  });
  // Records each learner's value to put back; a slots lever refuses while the autoscaler runs.
  for (const { lever } of levers) await lever.baseline();
  let restored = false;
  try {
    opts.progress?.(`baseline: ${levers.map(({ setting, lever }) => `${setting.name} ${inWords(lever, setting.baseline)}`).join(', ')}`);
    for (const { setting, lever } of levers) await lever.apply(setting.baseline);
    await measure({ ...opts, durationMs: warmUpMs(opts) }, 'baseline');
    const baseline = await measure(opts, 'baseline');
    opts.progress?.(`final: ${levers.map(({ setting, lever }) => `${setting.name} ${inWords(lever, setting.final)}`).join(', ')}`);
    for (const { lever } of levers) await lever.restore();
    restored = true;
    const final = await measure(opts, 'final');
    return {
      settings: [...opts.settings], goal: opts.goal, rate: opts.rate, durationMs: opts.durationMs,
      baseline, final, improvement: improvement(opts.goal, baseline, final),
    };
  } finally {
    if (!restored) for (const { lever } of levers) await lever.restore();
  }
}
