// Which recording rules are evaluated over a staged history (promtool tsdb create-blocks-from
// rules), written as one rule file for promtool natively and for prometheus/load-history.sh in
// compose. Left out, each for a reason:
// - a rule over another recorded series: promtool evaluates against the server, where the other
//   one's history is not yet (one pass), so it would record nothing;
// - a rule whose range reaches a day or more (the SLOs' 1d, 3d, 30d ratios): each of its
//   evaluations, one a minute over the whole history, reads up to all of it, which made them
//   nine tenths of a minute's work; over a 60-hour weekend they say little the shorter ones do not.
// And they are evaluated every 5 minutes rather than every minute: a fifth of the work, as fine as
// a panel's step over days, and an instant query's 5-minute look-back still finds a sample.
// Prometheus records all of them from the live scrapes as usual.
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { z } from 'zod';

const ruleFile = z.object({
  groups: z.array(z.object({ name: z.string(), interval: z.string().optional(), rules: z.array(z.looseObject({ record: z.string().optional(), alert: z.string().optional(), expr: z.string() })) })),
});

const unitSeconds: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3_600, d: 86_400, w: 604_800, y: 31_536_000 };
const dayS = 86_400;
const historyInterval = '5m';

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

export type HistoryRules = { yaml: string; kept: number; leftOut: number };

/** The recording rules of `files` worth evaluating over a staged history, as one rule file. */
export function historyRules(files: readonly string[]): HistoryRules {
  let [kept, leftOut] = [0, 0];
  const groups = files.flatMap((file) => ruleFile.parse(parse(readFileSync(file, 'utf8'))).groups).flatMap((group) => {
    const rules = group.rules.filter((rule) => {
      if (!rule.record) return false;
      const keep = !readsRecorded(rule.expr) && longestRangeSeconds(rule.expr) < dayS;
      if (keep) kept += 1;
      else leftOut += 1;
      return keep;
    });
    return rules.length ? [{ ...group, interval: historyInterval, rules }] : [];
  });
  return { yaml: stringify({ groups }), kept, leftOut };
}
