// Which recording rules are evaluated over a staged history (recorded-history.ts), natively and,
// from the tools container, in compose. Left out, each for a reason:
// - a rule over another recorded series: it is evaluated against the server, where the other
//   one's history is not yet (one pass), so it would record nothing;
// - a rule whose range reaches a day or more (the SLOs' 1d, 3d, 30d ratios): each of its
//   evaluations, one a minute over the whole history, reads up to all of it, which made them
//   nine tenths of a minute's work; over a 60-hour weekend they say little the shorter ones do not.
// And they are evaluated every 5 minutes rather than every minute: a fifth of the work, as fine as
// a panel's step over days, and an instant query's 5-minute look-back still finds a sample.
// Prometheus records all of them from the live scrapes as usual.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

const ruleFile = z.object({
  groups: z.array(z.object({ name: z.string(), interval: z.string().optional(), rules: z.array(z.looseObject({ record: z.string().optional(), alert: z.string().optional(), expr: z.string(), labels: z.record(z.string(), z.string()).optional() })) })),
});

const unitSeconds: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3_600, d: 86_400, w: 604_800, y: 31_536_000 };
const dayS = 86_400;
/** Every 5 minutes, as said above. */
export const historyStepSeconds = 300;

/** The longest range (`[30d]`, `[1h]`, a subquery's `[48h:5m]`) in a PromQL expression, in seconds. */
export function longestRangeSeconds(expr: string): number {
  let longest = 0;
  for (const [, range = ''] of expr.matchAll(/\[([0-9a-z]+)(?::[0-9a-z]*)?\]/g)) {
    let seconds = 0;
    for (const [, n, unit = 's'] of range.matchAll(/(\d+)(ms|[smhdwy])/g)) seconds += Number(n) * (unitSeconds[unit] ?? 0);
    longest = Math.max(longest, seconds);
  }
  return longest;
}

/** Series names a rule reads that are recorded ones (a colon in the name, Prometheus' convention and ours). */
const readsRecorded = (expr: string) => /(^|[^a-zA-Z0-9_:"])[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_:]*[a-zA-Z0-9_]/.test(expr.replace(/"[^"]*"/g, '""'));

/** A recording rule as a rule file has it: the name it records, its expression, its labels. */
export type RecordingRule = { record: string; expr: string; labels?: Readonly<Record<string, string>> | undefined };

export type HistoryRules = { rules: RecordingRule[]; kept: number; leftOut: number };

/** The recording rules of `files` worth evaluating over a staged history. */
export function historyRules(files: readonly string[]): HistoryRules {
  const all = files.flatMap((file) => ruleFile.parse(parse(readFileSync(file, 'utf8'))).groups).flatMap((group) => group.rules);
  const recording = all.flatMap(({ record, expr, labels }) => (record ? [{ record, expr, labels }] : []));
  const rules = recording.filter((rule) => !readsRecorded(rule.expr) && longestRangeSeconds(rule.expr) < dayS);
  return { rules, kept: rules.length, leftOut: recording.length - rules.length };
}
