// The job-type mix of a load run: "fast.echo=60,slow.report=20" -> weights over the catalogue.
// Arrivals pick their type by smooth weighted round robin, so any stretch of a run carries the
// mix's proportions exactly (a random pick would wander, and a short run would not show the mix).
import { findJobType, jobTypeNames } from '#platform/job-catalogue.ts';

/** The one default, shared by `tps load`, the k6 script and the compose k6 service. */
export const defaultMix = 'fast.echo=60,fast.lookup=20,slow.report=15,slow.export=5';

export type MixEntry = { type: string; weight: number };

export class MixError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MixError';
  }
}

export function parseMix(spec: string): MixEntry[] {
  const entries: MixEntry[] = [];
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^([\w.-]+)=(\d+)$/.exec(part);
    if (!match) throw new MixError(`"${part}" is not <job type>=<weight> (e.g. fast.echo=60)`);
    const [, type = '', weight = '0'] = match;
    if (!findJobType(type)) throw new MixError(`unknown job type "${type}"; types are ${jobTypeNames.join(', ')}`);
    if (entries.some((e) => e.type === type)) throw new MixError(`job type "${type}" is named twice`);
    if (Number(weight) > 0) entries.push({ type, weight: Number(weight) });
  }
  if (entries.length === 0) throw new MixError('the mix is empty: give at least one <job type>=<weight> with a weight above 0');
  return entries;
}

/** Returns a picker: each call gives the next job type of the mix. */
export function mixPicker(mix: readonly MixEntry[]): () => string {
  const total = mix.reduce((sum, e) => sum + e.weight, 0);
  const current = mix.map(() => 0);
  return () => {
    let best = 0;
    for (let i = 0; i < mix.length; i++) {
      current[i] = (current[i] ?? 0) + (mix[i]?.weight ?? 0);
      if ((current[i] ?? 0) > (current[best] ?? 0)) best = i;
    }
    current[best] = (current[best] ?? 0) - total;
    return mix[best]?.type ?? '';
  };
}

export function formatMix(mix: readonly MixEntry[]): string {
  return mix.map((e) => `${e.type}=${e.weight}`).join(',');
}
